/* SPDX-License-Identifier: GPL-2.0 */
/* kavm PCI: calls between pci.c and pci-msix.c, not for devices. */
#ifndef KAVM_PCI_INTERNAL_H
#define KAVM_PCI_INTERNAL_H

struct pci_dev;

/* The guest wrote the MSI-X control word (host lock held). */
void pci_msix_control_written(struct pci_dev *pdev);
/* Drop the routes and the table (no lock held, device unregistered). */
void pci_msix_exit(struct pci_dev *pdev);
/* COMMAND was written: INTX_DISABLE may have changed (host lock held). */
void pci_intx_command_written(struct pci_dev *pdev);
/* The device's INTx request, for STATUS.INTERRUPT. */
int pci_intx_status(struct pci_dev *pdev);

#endif /* KAVM_PCI_INTERNAL_H */
