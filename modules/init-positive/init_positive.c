// SPDX-License-Identifier: GPL-2.0
/*
 * An init routine that returns a positive number (42). do_init_module
 * treats it as success: the module loads and stays, but the kernel warns in
 * one printk record (two lines) that the return should follow the 0/-E
 * convention, and dumps the stack.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init init_positive_init(void)
{
	pr_info("init_positive: init returns 42\n");
	return 42;
}

static void __exit init_positive_exit(void)
{
	pr_info("init_positive: exit\n");
}

module_init(init_positive_init);
module_exit(init_positive_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix init-positive: init returns 42, the module loads with a warning");
