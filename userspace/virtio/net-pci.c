// SPDX-License-Identifier: GPL-2.0
/* kavm: plug each --device virtio-net-pci into the VM: backend, device, PCI function. */
#include <errno.h>
#include <string.h>

#include <kavm/init.h>
#include <kavm/kvm.h>
#include <kavm/log.h>
#include <kavm/net.h>
#include <kavm/net-dump.h>
#include <kavm/pci.h>
#include <kavm/virtio-net.h>
#include <kavm/virtio-pci.h>

struct nic {
	struct net_client *backend;
	struct virtio_net *vn;
	struct virtio_pci *vpci;
};

/* One VM per process, as the host bridge in hw/pci-vm.c. */
static struct nic nics[KAVM_MAX_NICS];
static unsigned int nr_nics;

static const struct netdev_opts *nic_netdev(const struct vm_config *cfg, const char *id)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_netdevs; i++)
		if (!strcmp(cfg->netdevs[i].id, id))
			return &cfg->netdevs[i];
	return NULL;
}

/* --object filter-dump, one per entry of cfg->filters. */
static struct net_dump *dumps[KAVM_MAX_NICS];

static void net_dumps_close(void)
{
	unsigned int i;

	for (i = 0; i < KAVM_MAX_NICS; i++) {
		net_dump_close(dumps[i]);
		dumps[i] = NULL;
	}
}

/* After the backends: each dump watches the backend of the device on its netdev. */
static int net_dumps_open(const struct vm_config *cfg)
{
	unsigned int i, j;
	int ret;

	for (i = 0; i < cfg->nr_filters; i++) {
		const struct net_filter_opts *f = &cfg->filters[i];

		for (j = 0; j < cfg->nr_nics && strcmp(cfg->nics[j].netdev, f->netdev); j++)
			;
		if (j == cfg->nr_nics || !nics[j].backend)
			return -ENOENT; /* options.c refuses this already */
		ret = net_dump_open(f, nic_netdev(cfg, f->netdev), nics[j].backend, &dumps[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Input level: every backend opens (taps made, fds checked) before /dev/kvm does. */
static void net_backends_close(struct kvm_vm *vm)
{
	unsigned int i;

	net_dumps_close();

	for (i = 0; i < KAVM_MAX_NICS; i++) {
		if (nics[i].backend)
			netdev_close(nics[i].backend);
		nics[i].backend = NULL;
	}
}

static int net_backends_open(struct kvm_vm *vm)
{
	unsigned int i;
	int ret;

	for (i = 0; i < vm->cfg->nr_nics; i++) {
		const struct net_device_opts *d = &vm->cfg->nics[i];
		const struct netdev_opts *o = nic_netdev(vm->cfg, d->netdev);

		if (!o) {
			ret = -ENOENT; /* options.c refuses this already */
			goto err;
		}
		ret = netdev_open(o, vm->loop, &nics[i].backend);
		if (ret) {
			ret = -ECANCELED; /* the backend said why, naming the netdev */
			goto err;
		}
	}
	ret = net_dumps_open(vm->cfg);
	if (ret) {
		ret = -ECANCELED; /* net_dump_open() said why, naming the object */
		goto err;
	}
	return 0;
err:
	net_backends_close(vm);
	return ret;
}
input_init(net_backends_open, net_backends_close);

static void nic_close(struct nic *n)
{
	/* Transport first: no guest access reaches the device while it goes. */
	virtio_pci_exit(n->vpci);
	virtio_net_exit(n->vn);
	n->vpci = NULL;
	n->vn = NULL;
}

static int nic_open(struct kvm_vm *vm, struct pci_host *host, unsigned int index, struct nic *n)
{
	const struct net_device_opts *d = &vm->cfg->nics[index];
	struct virtio_net_params p = {
		.mem = &vm->mem, .loop = vm->loop, .name = d->netdev, .backend = n->backend
	};
	int ret;

	if (d->has_mac)
		memcpy(p.mac, d->mac, 6);
	else
		net_device_default_mac(index, p.mac);
	ret = virtio_net_init(&p, &n->vn);
	if (ret) {
		pr_err("%s,netdev=%s: %s", d->driver, d->netdev, strerror(-ret));
		return ret;
	}
	ret = virtio_pci_init(&n->vpci, host, virtio_net_vdev(n->vn));
	if (ret) {
		virtio_net_exit(n->vn); /* virtio_pci_init() said why */
		n->vn = NULL;
	}
	return ret;
}

static void net_pci_exit(struct kvm_vm *vm)
{
	while (nr_nics)
		nic_close(&nics[--nr_nics]);
}

static int net_pci_init(struct kvm_vm *vm)
{
	struct pci_host *host = kvm_vm_pci(vm);
	unsigned int i;
	int ret;

	if (!vm->cfg->nr_nics)
		return 0;
	if (!host) {
		pr_err("%s: no PCI host bridge in this VM", vm->cfg->nics[0].driver);
		return -ECANCELED;
	}
	for (i = 0; i < vm->cfg->nr_nics; i++) {
		ret = nic_open(vm, host, i, &nics[i]);
		if (ret) {
			net_pci_exit(vm);
			return -ECANCELED;
		}
		nr_nics++;
	}
	return 0;
}
dev_init(net_pci_init, net_pci_exit);

struct virtio_net *net_pci_nic(unsigned int i, struct net_client **backend)
{
	if (i >= nr_nics)
		return NULL;
	*backend = nics[i].backend;
	return nics[i].vn;
}
