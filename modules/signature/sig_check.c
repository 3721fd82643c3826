// SPDX-License-Identifier: GPL-2.0
/* loaded signed, unsigned, with another key and with a damaged signature */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init sig_check_init(void)
{
	pr_info("sig_check: loaded\n");
	return 0;
}

static void __exit sig_check_exit(void)
{
	pr_info("sig_check: unloaded\n");
}

module_init(sig_check_init);
module_exit(sig_check_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix sig_check: loaded signed, unsigned, with another key and with a damaged signature");
