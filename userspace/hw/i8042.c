// SPDX-License-Identifier: GPL-2.0
/*
 * kavm i8042: enough of the PC keyboard controller for Linux to probe it
 * quickly (command byte, self tests, AUX loopback) and to reset the machine
 * through it (reboot=k: command 0xfe, or output port bit 0 cleared), which
 * ends kavm with status 0. No keyboard or mouse is attached.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <kavm/init.h>
#include <kavm/kvm.h>
#include <kavm/log.h>

#define I8042_DATA 0x60
#define I8042_CMD 0x64

#define STR_OBF 0x01
#define STR_SYSFLAG 0x04
#define STR_CMDDAT 0x08
#define STR_KEYLOCK 0x10 /* set: the keyboard is not locked */
#define STR_AUXDATA 0x20

#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_WRITE_OUTPORT 0xd1
#define CMD_AUX_LOOP 0xd3
#define CMD_AUX_SEND 0xd4
#define CMD_PULSE_RESET 0xfe

static struct i8042 {
	struct kvm_vm *vm;
	pthread_mutex_t lock; /* vCPU threads */
	uint8_t ctr;	      /* controller command byte */
	uint8_t pending_cmd;  /* a command waiting for its data byte */
	uint8_t out;	      /* output buffer */
	bool out_full, out_aux;
} kbc = { .lock = PTHREAD_MUTEX_INITIALIZER, .ctr = 0x47 };

static void i8042_reply(struct i8042 *k, uint8_t v, bool aux)
{
	k->out = v;
	k->out_full = true;
	k->out_aux = aux;
}

static void i8042_reset(struct i8042 *k)
{
	kvm_vm_request_stop(k->vm, VM_STOP_REBOOT, "guest reset (i8042)");
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_reply(k, k->ctr, false);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPORT:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		k->pending_cmd = cmd;
		break;
	case CMD_SELF_TEST:
		i8042_reply(k, 0x55, false);
		break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST:
		i8042_reply(k, 0x00, false);
		break;
	case CMD_PULSE_RESET:
		i8042_reset(k);
		break;
	/* Port enables live in the command byte, where Linux reads them back. */
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= ~CTR_KBDDIS;
		break;
	default: /* the rest: accepted, nothing to model */
		break;
	}
}

static void i8042_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case CMD_WRITE_OUTPORT:
		if (!(v & 1)) /* bit 0 low holds the CPU in reset */
			i8042_reset(k);
		break;
	case CMD_AUX_LOOP:
		i8042_reply(k, v, true);
		break;
	default: /* bytes for an absent keyboard or mouse: never answered */
		break;
	}
}

static void i8042_access(struct i8042 *k, bool cmd_port, uint8_t *p, unsigned int len,
			 bool is_write)
{
	pthread_mutex_lock(&k->lock);
	if (!is_write)
		memset(p, 0, len);
	if (!cmd_port && is_write) {
		i8042_data(k, p[0]);
	} else if (!cmd_port) {
		p[0] = k->out;
		k->out_full = false;
	} else if (is_write) {
		i8042_command(k, p[0]);
	} else {
		p[0] = STR_SYSFLAG | STR_KEYLOCK | (k->out_full ? STR_OBF : 0) |
		       (k->out_full && k->out_aux ? STR_AUXDATA : 0) |
		       (k->pending_cmd ? STR_CMDDAT : 0);
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_data_access(void *opaque, uint64_t off, void *data, unsigned int len,
			      bool is_write)
{
	i8042_access(opaque, false, data, len, is_write);
}

static void i8042_cmd_access(void *opaque, uint64_t off, void *data, unsigned int len,
			     bool is_write)
{
	i8042_access(opaque, true, data, len, is_write);
}

static int i8042_init(struct kvm_vm *vm)
{
	int ret;

	kbc.vm = vm;
	ret = bus_register(&vm->pio_bus, I8042_DATA, 1, i8042_data_access, &kbc, "i8042");
	if (ret)
		return ret;
	ret = bus_register(&vm->pio_bus, I8042_CMD, 1, i8042_cmd_access, &kbc, "i8042");
	if (ret)
		bus_unregister(&vm->pio_bus, I8042_DATA);
	return ret;
}

static void i8042_exit(struct kvm_vm *vm)
{
	bus_unregister(&vm->pio_bus, I8042_CMD);
	bus_unregister(&vm->pio_bus, I8042_DATA);
}
dev_init(i8042_init, i8042_exit);
