// SPDX-License-Identifier: GPL-2.0
/*
 * Calls _printk (through pr_info), whose CRC the scenario changes in the
 * Module.symvers it is built against.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init crc_user_init(void)
{
	pr_info("crc_user: loaded\n");
	return 0;
}

static void __exit crc_user_exit(void)
{
}

module_init(crc_user_init);
module_exit(crc_user_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix crc_user: built against another version of _printk");
