/* SPDX-License-Identifier: GPL-2.0 */
/* Test guest: echo every byte the UART receives until 'q', then report 0 on port 0xf4. */
	.code16
	.globl _start
_start:
	cli
poll:	mov $0x3fd, %dx		/* LSR: wait for data ready */
	in %dx, %al
	test $0x01, %al
	jz poll
	mov $0x3f8, %dx
	in %dx, %al		/* RBR */
	out %al, %dx		/* THR */
	cmp $'q', %al
	jne poll
	xor %al, %al
	out %al, $0xf4
	hlt
