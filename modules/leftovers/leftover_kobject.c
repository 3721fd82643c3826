// SPDX-License-Identifier: GPL-2.0
/*
 * An init that fails halfway with a broken error path: it adds the kobject
 * /sys/kernel/leftover_kobject, then /proc/leftover_kobject, then finds no
 * device (-ENODEV). The error path removes the /proc entry but forgets
 * kobject_put(), so the kobject outlives the failed load.
 * tidy_kobject.c is the correct twin.
 */
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/proc_fs.h>

static const struct proc_ops leftover_kobject_ops = {};

static int __init leftover_kobject_init(void)
{
	struct kobject *kobj = kobject_create_and_add("leftover_kobject", kernel_kobj);

	if (!kobj)
		return -ENOMEM;
	if (!proc_create("leftover_kobject", 0444, NULL, &leftover_kobject_ops)) {
		kobject_put(kobj);
		return -ENOMEM;
	}
	/* No device: undo in reverse order... */
	remove_proc_entry("leftover_kobject", NULL);
	/* Bug: kobject_put(kobj) is missing. */
	return -ENODEV;
}

module_init(leftover_kobject_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("failed init forgets its kobject");
