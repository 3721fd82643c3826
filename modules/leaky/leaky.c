// SPDX-License-Identifier: GPL-2.0
/*
 * leaky: init allocates 4 KiB and keeps the pointer in module data; exit
 * forgets to free it. Once the module is unloaded nothing references the
 * buffer: kmemleak reports it (on kernels with DEBUG_KMEMLEAK), with the
 * module's init frame as a bare address.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/slab.h>

static void *buffer;

static int __init leaky_init(void)
{
	buffer = kmalloc(4096, GFP_KERNEL);
	if (!buffer)
		return -ENOMEM;
	pr_info("leaky: allocated %p\n", buffer);
	return 0;
}

static void __exit leaky_exit(void)
{
	pr_info("leaky: unloading without kfree\n");
}

module_init(leaky_init);
module_exit(leaky_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("forgets to free what init allocated");
