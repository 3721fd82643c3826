// SPDX-License-Identifier: GPL-2.0
/*
 * localversion: an ordinary module. The scenario loads a build of it made
 * for this kernel's own tree with another LOCALVERSION, so that only the
 * release in its vermagic string differs from the kernel's.
 */
#include <linux/init.h>
#include <linux/module.h>

static int __init localversion_init(void)
{
	pr_info("localversion: loaded\n");
	return 0;
}

static void __exit localversion_exit(void)
{
	pr_info("localversion: unloaded\n");
}

module_init(localversion_init);
module_exit(localversion_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("loaded into a kernel of another release");
