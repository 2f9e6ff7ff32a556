/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kavm: the bridge access file (qemu-bridge-helper's bridge.conf rules) deciding
 * which bridges a VM may join. See Documentation/bridge.md for the file format.
 *
 * A bridge is allowed when at least one "allow NAME" or "allow all" rule matches
 * it and no "deny NAME" or "deny all" rule does: deny wins over allow wherever
 * it appears, and with no matching allow the answer is no (default deny).
 */
#ifndef KAVM_BRIDGE_ACL_H
#define KAVM_BRIDGE_ACL_H

#include <stddef.h>

#define BRIDGE_ACL_DEFAULT_PATH "/etc/kavm/bridge.conf"
/* Environment variable that overrides the default path. */
#define BRIDGE_ACL_ENV "KAVM_BRIDGE_CONF"
/* How deep "include" may nest; deeper is refused as a probable loop. */
#define BRIDGE_ACL_MAX_DEPTH 8

struct bridge_acl;

/* $KAVM_BRIDGE_CONF if set and non-empty, else BRIDGE_ACL_DEFAULT_PATH. */
const char *bridge_acl_path(void);

/*
 * Read PATH and the files it includes. On failure returns -errno and writes
 * "FILE:LINE: reason" (or "FILE: reason") into ERR: -ENOENT/-EACCES for a file
 * that cannot be opened, -EINVAL for a syntax error, -ELOOP for an include
 * loop or nesting deeper than BRIDGE_ACL_MAX_DEPTH.
 */
int bridge_acl_load(const char *path, struct bridge_acl **out, char *err, size_t errlen);
void bridge_acl_free(struct bridge_acl *acl);

/*
 * 0 if BRIDGE may be joined, -EACCES if not; WHY (may be NULL) says which rule
 * decided ("denied by /etc/kavm/bridge.conf:3 (deny all)") or that none allowed it.
 */
int bridge_acl_check(const struct bridge_acl *acl, const char *bridge, char *why, size_t len);

#endif /* KAVM_BRIDGE_ACL_H */
