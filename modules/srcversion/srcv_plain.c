// SPDX-License-Identifier: GPL-2.0
/* no MODULE_VERSION: a srcversion only under MODULE_SRCVERSION_ALL */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init srcv_plain_init(void)
{
	pr_info("srcv_plain: loaded\n");
	return 0;
}

static void __exit srcv_plain_exit(void)
{
	pr_info("srcv_plain: unloaded\n");
}

module_init(srcv_plain_init);
module_exit(srcv_plain_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix srcv_plain: no MODULE_VERSION: a srcversion only under MODULE_SRCVERSION_ALL");
