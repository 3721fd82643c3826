// SPDX-License-Identifier: GPL-2.0
/*
 * A trivial module for the no-module-support case: without CONFIG_MODULES
 * the finit_module and delete_module syscalls are not built (sys_ni_syscall),
 * so both fail with ENOSYS and /proc/modules does not exist.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init modules_off_init(void)
{
	pr_info("modules_off: init\n");
	return 0;
}

static void __exit modules_off_exit(void)
{
	pr_info("modules_off: exit\n");
}

module_init(modules_off_init);
module_exit(modules_off_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix modules-off: load and unload are ENOSYS without MODULES");
