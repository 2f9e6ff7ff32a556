/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test guest: protected mode with an empty IDT, then a divide error:
 * #DE, #GP, #DF, triple fault = KVM_EXIT_SHUTDOWN. (Real mode would do,
 * but this host's instruction emulator ignores the real-mode IDT limit.)
 */
	.code16
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	lidt idt_empty
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	xor %bl, %bl
	div %bl
	hlt
idt_empty:
	.word 0
	.long 0
