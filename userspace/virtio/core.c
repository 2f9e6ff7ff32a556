// SPDX-License-Identifier: GPL-2.0
/* kavm virtio core: device state shared by every transport. */
#include <kavm/virtio.h>

void virtio_dev_needs_reset(struct virtio_dev *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	pthread_mutex_unlock(&vdev->lock);
	vdev->transport->notify_config(vdev);
}
