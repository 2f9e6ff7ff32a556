/* SPDX-License-Identifier: GPL-2.0 */
/* Test guest: reset the machine as Linux's reboot=k does, through the i8042. */
	.code16
	.globl _start
_start:
	cli
wait:	in $0x64, %al		/* wait until the input buffer is empty */
	test $0x02, %al
	jnz wait
	mov $0xfe, %al
	out %al, $0x64
	hlt
