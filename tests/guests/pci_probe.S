/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test guest (real mode, at 0x1000): probes PCI configuration space the way
 * Linux's arch/x86/pci/direct.c does, reports on port 0xf4 (0 = all checks
 * passed, else the failed check's number), then resets through the i8042
 * (with an in-kernel irqchip, hlt would sleep instead of exiting).
 * The test puts a device with vendor 1af4, device 1041 in slot 1.
 */
	.code16
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x1000, %sp

	/* 1: pci_check_type1: the address latch reads back a dword */
	mov $1, %bl
	mov $0xcf8, %dx
	mov $0x80000000, %eax
	outl %eax, %dx
	inl %dx, %eax
	cmp $0x80000000, %eax
	jne fail
	/* 2: pci_sanity_check: 00:00.0 is a host bridge (class word at 0x0a) */
	mov $2, %bl
	mov $0x80000008, %eax
	outl %eax, %dx
	mov $0xcfe, %dx
	inw %dx, %ax
	cmp $0x0600, %ax
	jne fail
	/* 3: 00:01.0 vendor and device in one dword */
	mov $3, %bl
	mov $0xcf8, %dx
	mov $0x80000800, %eax
	outl %eax, %dx
	mov $0xcfc, %dx
	inl %dx, %eax
	cmp $0x10411af4, %eax
	jne fail
	/* 4: its interrupt pin (byte 0x3d) is INTA */
	mov $4, %bl
	mov $0xcf8, %dx
	mov $0x8000083c, %eax
	outl %eax, %dx
	mov $0xcfd, %dx
	inb %dx, %al
	cmp $1, %al
	jne fail
	/* 5: BAR0 sizing: ones in, 4 KiB mask out */
	mov $5, %bl
	mov $0xcf8, %dx
	mov $0x80000810, %eax
	outl %eax, %dx
	mov $0xcfc, %dx
	inl %dx, %eax
	mov %eax, %esi
	mov $0xffffffff, %eax
	outl %eax, %dx
	inl %dx, %eax
	cmp $0xfffff000, %eax
	jne fail
	mov %esi, %eax
	outl %eax, %dx
	/* 6: an empty slot reads all ones */
	mov $6, %bl
	mov $0xcf8, %dx
	mov $0x80001000, %eax
	outl %eax, %dx
	mov $0xcfc, %dx
	inl %dx, %eax
	cmp $0xffffffff, %eax
	jne fail

	xor %bl, %bl
fail:
	mov %bl, %al
	out %al, $0xf4
wait:	in $0x64, %al
	test $0x02, %al
	jnz wait
	mov $0xfe, %al
	out %al, $0x64
spin:	jmp spin
