/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test guest (real mode, at 0x1000): checks the values kavm's devices
 * return over port I/O and MMIO, then reports on the test port 0xf4:
 * 0 = every check passed, otherwise the number of the failed check.
 * The MMIO test device sits at 0xd0000 (above this guest's 512 KiB of RAM).
 */
	.code16
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x1000, %sp

	/* 1: UART LSR after reset: THRE | TEMT, no data */
	mov $1, %bl
	mov $0x3fd, %dx
	in %dx, %al
	cmp $0x60, %al
	jne fail
	/* 2: UART IIR: no interrupt pending */
	mov $2, %bl
	mov $0x3fa, %dx
	in %dx, %al
	cmp $0x01, %al
	jne fail
	/* 3: UART scratch register round trip */
	mov $3, %bl
	mov $0x3ff, %dx
	mov $0xa5, %al
	out %al, %dx
	xor %al, %al
	in %dx, %al
	cmp $0xa5, %al
	jne fail
	/* 4: FIFO enabled shows in IIR bits 7:6 */
	mov $4, %bl
	mov $0x3fa, %dx
	mov $0x07, %al
	out %al, %dx
	in %dx, %al
	cmp $0xc1, %al
	jne fail
	/* 5: transmit "ok\n": the test reads it from the console file */
	mov $5, %bl
	mov $0x3f8, %dx
	mov $'o', %al
	out %al, %dx
	mov $'k', %al
	out %al, %dx
	mov $'\n', %al
	out %al, %dx
	/* 6: an unclaimed port reads all ones */
	mov $6, %bl
	mov $0x2e0, %dx
	xor %ax, %ax
	in %dx, %ax
	cmp $0xffff, %ax
	jne fail
	/* 7: CMOS RTC: register D says the time is valid */
	mov $7, %bl
	mov $0x0d, %al
	out %al, $0x70
	in $0x71, %al
	cmp $0x80, %al
	jne fail
	/* 8: MMIO test device: 32-bit read of its id */
	mov $8, %bl
	mov $0xd000, %ax
	mov %ax, %es
	mov %es:0, %eax
	cmp $0x4b41564d, %eax
	jne fail
	/* 9: MMIO write then read back through the device */
	mov $9, %bl
	movl $0x12345678, %es:4
	mov %es:4, %eax
	cmp $0x12345678, %eax
	jne fail
	/* 10: unclaimed MMIO reads all ones */
	mov $10, %bl
	mov %es:0x800, %eax
	cmp $0xffffffff, %eax
	jne fail

	/* 11: i8042 self test answers 0x55 */
	mov $11, %bl
	mov $0xaa, %al
	out %al, $0x64
	in $0x64, %al
	test $0x01, %al
	jz fail
	in $0x60, %al
	cmp $0x55, %al
	jne fail
	/* 12: disabling the AUX port shows in the command byte */
	mov $12, %bl
	mov $0xa7, %al
	out %al, $0x64
	mov $0x20, %al
	out %al, $0x64
	in $0x60, %al
	test $0x20, %al
	jz fail
	/* 13: AUX loopback returns the byte flagged as AUX data */
	mov $13, %bl
	mov $0xd3, %al
	out %al, $0x64
	mov $0x5a, %al
	out %al, $0x60
	in $0x64, %al
	and $0x21, %al
	cmp $0x21, %al
	jne fail
	in $0x60, %al
	cmp $0x5a, %al
	jne fail

	xor %bl, %bl
fail:
	mov %bl, %al
	out %al, $0xf4
	hlt
	jmp fail
