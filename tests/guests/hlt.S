/* SPDX-License-Identifier: GPL-2.0 */
/* Test guest: say 0x42 on port 0xf4, then halt with interrupts off. */
	.code16
	.globl _start
_start:
	cli
	mov $0x42, %al
	out %al, $0xf4
	hlt
