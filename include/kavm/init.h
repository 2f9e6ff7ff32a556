/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm init/exit lists (after kvmtool's util-init): each part of the VMM
 * registers an init and an exit function at a level; kavm runs the levels in
 * order input -> (KVM opens) -> core -> bus -> dev -> late and, on shutdown or a failed init, runs
 * the exits of everything that did initialise in reverse. Pairing the exit
 * with its init (unlike kvmtool's two lists) means an exit never sees state
 * its init did not create.
 */
#ifndef KAVM_INIT_H
#define KAVM_INIT_H

#include <kavm/list.h>

struct kvm_vm;

enum init_level {
	/* Files and host resources the command line names, before /dev/kvm opens. */
	INIT_INPUT,
	INIT_CORE,
	INIT_BUS,
	INIT_DEV,
	INIT_LATE,
	INIT_NR_LEVELS,
};

struct init_item {
	const char *name;
	int (*init)(struct kvm_vm *vm);
	void (*exit)(struct kvm_vm *vm); /* may be NULL */
	enum init_level level;
	bool done;
	struct list_head link;
};

void init_list_add(struct init_item *item);
/*
 * Run every level; on failure, logs "init: <name>: <error>" and undoes what
 * ran. An init that already printed the one message the user needs returns
 * -ECANCELED and is not named again.
 */
int init_list_run(struct kvm_vm *vm);
/* The same for the levels first..last only. */
int init_list_run_levels(struct kvm_vm *vm, enum init_level first, enum init_level last);
/* Exits of everything initialised, in reverse order. */
void init_list_exit(struct kvm_vm *vm);

#define __kavm_init(fn_init, fn_exit, lvl)                                                         \
	static struct init_item __init_item_##fn_init = {                                          \
		.name = #fn_init, .init = fn_init, .exit = fn_exit, .level = lvl                   \
	};                                                                                         \
	static void __attribute__((constructor)) __init_register_##fn_init(void)                   \
	{                                                                                          \
		init_list_add(&__init_item_##fn_init);                                             \
	}

#define input_init(i, e) __kavm_init(i, e, INIT_INPUT)
#define core_init(i, e) __kavm_init(i, e, INIT_CORE)
#define bus_init_item(i, e) __kavm_init(i, e, INIT_BUS)
#define dev_init(i, e) __kavm_init(i, e, INIT_DEV)
#define late_init(i, e) __kavm_init(i, e, INIT_LATE)

#endif /* KAVM_INIT_H */
