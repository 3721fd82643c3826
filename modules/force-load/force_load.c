// SPDX-License-Identifier: GPL-2.0
/*
 * force_load: an ordinary module. The scenario loads a build of it made
 * for this kernel's tree with another LOCALVERSION (its vermagic names
 * another release), first as insmod would, then as modprobe --force does.
 */
#include <linux/init.h>
#include <linux/module.h>

static int __init force_load_init(void)
{
	pr_info("force_load: loaded\n");
	return 0;
}

static void __exit force_load_exit(void)
{
	pr_info("force_load: unloaded\n");
}

module_init(force_load_init);
module_exit(force_load_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("loaded by force into a kernel of another release");
