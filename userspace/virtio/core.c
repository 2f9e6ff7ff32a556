// SPDX-License-Identifier: GPL-2.0
/* kavm virtio core: transport-independent device helpers. */
#include <kavm/virtio.h>

void virtio_dev_needs_reset(struct virtio_dev *vdev)
{
	bool already;

	pthread_mutex_lock(&vdev->lock);
	already = vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET;
	vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	pthread_mutex_unlock(&vdev->lock);
	/* Once per incident: the driver learns from one config interrupt. */
	if (!already && vdev->transport && vdev->transport->notify_config)
		vdev->transport->notify_config(vdev);
}
