// SPDX-License-Identifier: GPL-2.0
/*
 * autoload_missing: init asks the kernel for autoload_target once more,
 * after the scenario pointed /proc/sys/kernel/modprobe at a program that
 * is not there, and prints what request_module() returned.
 */
#include <linux/kmod.h>
#include <linux/module.h>

static int __init autoload_missing_init(void)
{
	pr_info("autoload_missing: request_module(\"autoload_target\") = %d\n", request_module("autoload_target"));
	return 0;
}

static void __exit autoload_missing_exit(void)
{
}

module_init(autoload_missing_init);
module_exit(autoload_missing_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix scenario autoload: request_module with no modprobe");
