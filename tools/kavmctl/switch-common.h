/* SPDX-License-Identifier: GPL-2.0 */
/* kavmctl: helpers shared by the switch and fdb commands. */
#ifndef KAVMCTL_SWITCH_COMMON_H
#define KAVMCTL_SWITCH_COMMON_H

#include <kavm/bpf-switch.h>

/* The switch object's grammar lines. */
void kavmctl_switch_usage(void);
/* A message for the user, for errors of the bpf_switch_*() calls. */
const char *kavmctl_switch_strerror(int err);
/*
 * 0 if pins here outlive kavmctl, else prints why not (and that -n is the way)
 * for switch NAME and returns -EREMOTE.
 */
int kavmctl_switch_pins_ok(const char *name);
/* bpf_switch_open(), printing one message on failure. */
int kavmctl_switch_open(const char *name, struct bpf_switch **sw);
int kavmctl_switch_show(int argc, char **argv);

#endif /* KAVMCTL_SWITCH_COMMON_H */
