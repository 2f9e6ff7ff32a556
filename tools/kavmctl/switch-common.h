/* SPDX-License-Identifier: GPL-2.0 */
/* kavmctl: helpers shared by the switch and fdb commands. */
#ifndef KAVMCTL_SWITCH_COMMON_H
#define KAVMCTL_SWITCH_COMMON_H

#include <stdbool.h>

#include <kavm/bpf-switch.h>
#include <kavm/json.h>

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

/*
 * The kmod engine (switch-kmod.c): runs the command when it names a switch
 * of kavm_switch.ko (or "switch add --engine kmod"), setting *handled.
 */
int kavmctl_kmod_switch(int *argc, char **argv, bool *handled);
int kavmctl_kmod_fdb(int argc, char **argv, bool *handled);
/* Every kmod switch, into a show already begun (jw: -j). */
int kavmctl_kmod_show_all(struct json_writer *jw);

#endif /* KAVMCTL_SWITCH_COMMON_H */
