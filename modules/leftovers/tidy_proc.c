// SPDX-License-Identifier: GPL-2.0
/* leftover_proc.c's twin: the exit routine removes /proc/tidy_proc. */
#include <linux/module.h>
#include <linux/proc_fs.h>

static const struct proc_ops tidy_proc_ops = {};

static int __init tidy_proc_init(void)
{
	if (!proc_create("tidy_proc", 0444, NULL, &tidy_proc_ops))
		return -ENOMEM;
	return 0;
}

static void __exit tidy_proc_exit(void)
{
	remove_proc_entry("tidy_proc", NULL);
}

module_init(tidy_proc_init);
module_exit(tidy_proc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("removes its /proc entry on exit");
