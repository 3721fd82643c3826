// SPDX-License-Identifier: GPL-2.0
/*
 * A module with an init routine and no exit routine. The kernel cannot
 * run any clean-up for it, so it counts as permanent: /proc/modules shows
 * "[permanent]," where CONFIG_MODULE_UNLOAD is set, and delete_module
 * refuses with EBUSY unless the caller forces it (O_TRUNC) on a kernel with
 * CONFIG_MODULE_FORCE_UNLOAD, which removes it and taints the kernel R.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init noexit_init(void)
{
	pr_info("noexit: init, no exit routine\n");
	return 0;
}

module_init(noexit_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix noexit: a module without an exit routine is permanent");
