// SPDX-License-Identifier: GPL-2.0
/* loaded without a signature */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init unsigned_mod_init(void)
{
	pr_info("unsigned_mod: loaded\n");
	return 0;
}

static void __exit unsigned_mod_exit(void)
{
	pr_info("unsigned_mod: unloaded\n");
}

module_init(unsigned_mod_init);
module_exit(unsigned_mod_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix unsigned_mod: loaded without a signature");
