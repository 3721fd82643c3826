// SPDX-License-Identifier: GPL-2.0
/*
 * Loading a module whose name is already loaded. The loader finds the name
 * taken before it lays the new copy out, so the second finit_module fails
 * with EEXIST, init does not run again, and the first instance stays live.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init double_load_init(void)
{
	pr_info("double_load: init\n");
	return 0;
}

static void __exit double_load_exit(void)
{
	pr_info("double_load: exit\n");
}

module_init(double_load_init);
module_exit(double_load_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix double-load: a second load of a loaded module is EEXIST");
