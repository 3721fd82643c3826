// SPDX-License-Identifier: GPL-2.0
/*
 * vermagic: an ordinary module. The scenario loads builds of it made for
 * other cells' kernels to see the loader refuse them with ENOEXEC and say
 * why.
 */
#include <linux/init.h>
#include <linux/module.h>

static int __init vermagic_init(void)
{
	pr_info("vermagic: loaded\n");
	return 0;
}

static void __exit vermagic_exit(void)
{
	pr_info("vermagic: unloaded\n");
}

module_init(vermagic_init);
module_exit(vermagic_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("loaded into kernels it was not built for");
