// SPDX-License-Identifier: GPL-2.0
/*
 * An init routine that returns -1. do_one_initcall's result goes back to
 * userspace unchanged, so finit_module fails with EPERM (errno 1), and the
 * loader frees the half-loaded module: no /proc/modules line, no
 * /sys/module/init_eperm. The loader itself prints nothing for a negative
 * return.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init init_eperm_init(void)
{
	pr_info("init_eperm: init returns -1\n");
	return -1;
}

/* Never runs; lets a kernel that wrongly kept the module unload it. */
static void __exit init_eperm_exit(void)
{
}

module_init(init_eperm_init);
module_exit(init_eperm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix init-eperm: init returns -1, load fails with EPERM");
