// SPDX-License-Identifier: GPL-2.0
/*
 * warn_init: init hits WARN_ON(1) and still returns 0. The module loads,
 * the kernel prints a WARNING with this module on the stack and sets taint W.
 */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/module.h>

static int __init warn_init_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit warn_init_exit(void)
{
}

module_init(warn_init_init);
module_exit(warn_init_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("init triggers a WARNING and loads anyway");
