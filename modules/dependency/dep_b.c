// SPDX-License-Identifier: GPL-2.0
/*
 * The using half of a module dependency: dep_b calls dep_a's exported
 * dep_a_answer(), so it only loads after dep_a and pins dep_a while loaded.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

int dep_a_answer(void);

static int __init dep_b_init(void)
{
	pr_info("dep_b: init, dep_a answers %d\n", dep_a_answer());
	return 0;
}

static void __exit dep_b_exit(void)
{
	pr_info("dep_b: exit\n");
}

module_init(dep_b_init);
module_exit(dep_b_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix dependency: uses a symbol dep_a exports");
