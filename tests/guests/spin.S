/* SPDX-License-Identifier: GPL-2.0 */
/* Test guest: spin forever; only a kick from the host ends it. */
	.code16
	.globl _start
_start:
	cli
1:	jmp 1b
