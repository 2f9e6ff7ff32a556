/* SPDX-License-Identifier: GPL-2.0 */
/* Test guest: count up in ECX forever; the host reads the count to see the vCPU run. */
	.code16
	.globl _start
_start:
	cli
	xor %ecx, %ecx
1:	inc %ecx
	jmp 1b
