// SPDX-License-Identifier: GPL-2.0
/*
 * Creates /proc/leftover_proc in init; the exit routine forgets
 * remove_proc_entry(), so the entry outlives the module (and opening it
 * then would run freed code). tidy_proc.c is the correct twin.
 */
#include <linux/module.h>
#include <linux/proc_fs.h>

static const struct proc_ops leftover_proc_ops = {};

static int __init leftover_proc_init(void)
{
	if (!proc_create("leftover_proc", 0444, NULL, &leftover_proc_ops))
		return -ENOMEM;
	return 0;
}

static void __exit leftover_proc_exit(void)
{
	/* Bug: remove_proc_entry("leftover_proc", NULL) is missing. */
}

module_init(leftover_proc_init);
module_exit(leftover_proc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("exit forgets its /proc entry");
