// SPDX-License-Identifier: GPL-2.0
/*
 * leftover_kobject.c's twin: the init fails at the same point, and its
 * error path undoes both registrations in reverse order.
 */
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/proc_fs.h>

static const struct proc_ops tidy_kobject_ops = {};

static int __init tidy_kobject_init(void)
{
	struct kobject *kobj = kobject_create_and_add("tidy_kobject", kernel_kobj);

	if (!kobj)
		return -ENOMEM;
	if (!proc_create("tidy_kobject", 0444, NULL, &tidy_kobject_ops)) {
		kobject_put(kobj);
		return -ENOMEM;
	}
	remove_proc_entry("tidy_kobject", NULL);
	kobject_put(kobj);
	return -ENODEV;
}

module_init(tidy_kobject_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("failed init undoes what it did");
