// SPDX-License-Identifier: GPL-2.0
/*
 * exit_oops: the exit routine writes through a NULL pointer. Unloading it
 * oopses in delete_module's task; the task dies and the syscall never
 * returns.
 */
#include <linux/init.h>
#include <linux/module.h>

static int *nowhere;

static int __init exit_oops_init(void)
{
	pr_info("exit_oops: loaded\n");
	return 0;
}

static void __exit exit_oops_exit(void)
{
	pr_info("exit_oops: about to write through NULL\n");
	*(volatile int *)READ_ONCE(nowhere) = 1;
}

module_init(exit_oops_init);
module_exit(exit_oops_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("exit dereferences a NULL pointer");
