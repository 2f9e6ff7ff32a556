// SPDX-License-Identifier: GPL-2.0
/*
 * kavm_switch: an Ethernet switch between VM taps, in the kernel, driven
 * over the generic netlink family "kavm" (include/uapi/linux/kavm_switch.h).
 *
 * Modelled on net/bridge (rx_handler ports, a learning fdb) without its
 * master device: a switch is a name in a network namespace, and frames go
 * from one port's rx_handler straight to another port's transmit.
 */
#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/net_namespace.h>

#include "kavm_switch.h"

unsigned int kavm_net_id __read_mostly;

static int __net_init kavm_net_init(struct net *net)
{
	struct kavm_net *kn = kavm_net(net);

	INIT_LIST_HEAD(&kn->switches);
	/* Never 0: a dump's first pass has prev_seq 0 and compares nothing. */
	kn->genid = 1;
	return 0;
}

/* A subsys, so run after the namespace's devices left their switches. */
static void __net_exit kavm_net_exit(struct net *net)
{
	kavm_switch_destroy_net(net);
}

static struct pernet_operations kavm_net_ops = {
	.init = kavm_net_init,
	.exit = kavm_net_exit,
	.id = &kavm_net_id,
	.size = sizeof(struct kavm_net),
};

static int __init kavm_switch_init(void)
{
	int ret;

	ret = register_pernet_subsys(&kavm_net_ops);
	if (ret)
		return ret;
	ret = kavm_netdev_notifier_register();
	if (ret)
		goto err_pernet;
	ret = kavm_genl_register();
	if (ret)
		goto err_notifier;
	return 0;

err_notifier:
	kavm_netdev_notifier_unregister();
err_pernet:
	unregister_pernet_subsys(&kavm_net_ops);
	return ret;
}

/*
 * No request can come once the family is gone; then every namespace's
 * switches go, detaching their ports (rmmod with ports attached), and the
 * RCU callbacks that free ports and switches run before our text goes.
 */
static void __exit kavm_switch_exit(void)
{
	kavm_genl_unregister();
	unregister_pernet_subsys(&kavm_net_ops);
	kavm_netdev_notifier_unregister();
	rcu_barrier();
}

module_init(kavm_switch_init);
module_exit(kavm_switch_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kavm developers <dev@kavm.invalid>");
MODULE_DESCRIPTION("kavm: an Ethernet switch between VM taps, driven over generic netlink");
MODULE_VERSION("1.0");
MODULE_ALIAS_GENL_FAMILY(KAVM_GENL_NAME);
