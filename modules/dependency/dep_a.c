// SPDX-License-Identifier: GPL-2.0
/*
 * The used half of a module dependency: dep_a exports dep_a_answer(), which
 * dep_b calls. Loading dep_b makes dep_b a user of dep_a (ref_module): where
 * CONFIG_MODULE_UNLOAD is set, dep_a's refcount goes to 1, /proc/modules
 * lists "dep_b," as its user, /sys/module/dep_a/holders/dep_b appears, and
 * dep_a cannot be removed while dep_b is loaded, not even with O_TRUNC.
 */
#include <linux/export.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

int dep_a_answer(void);

int dep_a_answer(void)
{
	return 42;
}
EXPORT_SYMBOL_GPL(dep_a_answer);

static int __init dep_a_init(void)
{
	pr_info("dep_a: init\n");
	return 0;
}

static void __exit dep_a_exit(void)
{
	pr_info("dep_a: exit\n");
}

module_init(dep_a_init);
module_exit(dep_a_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix dependency: exports a symbol dep_b uses");
