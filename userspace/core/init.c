// SPDX-License-Identifier: GPL-2.0
/* kavm init/exit lists: levelled start-up, reverse teardown. */
#include <errno.h>
#include <string.h>

#include <kavm/init.h>
#include <kavm/log.h>

/* Filled by constructors before main(); only the main thread walks them. */
static struct list_head init_lists[INIT_NR_LEVELS] = {
	LIST_HEAD_INIT(init_lists[0]), LIST_HEAD_INIT(init_lists[1]), LIST_HEAD_INIT(init_lists[2]),
	LIST_HEAD_INIT(init_lists[3]), LIST_HEAD_INIT(init_lists[4]),
};

void init_list_add(struct init_item *item)
{
	list_add_tail(&item->link, &init_lists[item->level]);
}

int init_list_run_levels(struct kvm_vm *vm, enum init_level first, enum init_level last)
{
	struct init_item *item;
	int level, ret;

	for (level = first; level <= (int)last; level++) {
		list_for_each_entry(item, &init_lists[level], link) {
			ret = item->init(vm);
			if (ret < 0) {
				if (ret != -ECANCELED)
					pr_err("init: %s: %s", item->name, strerror(-ret));
				init_list_exit(vm);
				return ret;
			}
			item->done = true;
		}
	}
	return 0;
}

int init_list_run(struct kvm_vm *vm)
{
	return init_list_run_levels(vm, 0, INIT_NR_LEVELS - 1);
}

void init_list_exit(struct kvm_vm *vm)
{
	struct init_item *item;
	int level;

	for (level = INIT_NR_LEVELS - 1; level >= 0; level--) {
		list_for_each_entry_reverse(item, &init_lists[level], link)
		{
			if (!item->done)
				continue;
			item->done = false;
			if (item->exit)
				item->exit(vm);
		}
	}
}
