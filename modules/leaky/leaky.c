// SPDX-License-Identifier: GPL-2.0
/*
 * leaky: init allocates 512 bytes and loses the pointer, and exit has nothing
 * to free. kmemleak (on kernels with DEBUG_KMEMLEAK) reports the buffer as
 * unreferenced once it is older than 5 s; by the boot's scan the module is
 * unloaded, so its init frame is a bare address the harness must map back
 * to the module.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/slab.h>

static int __init leaky_init(void)
{
	char *buffer = kmalloc(512, GFP_KERNEL);

	if (!buffer)
		return -ENOMEM;
	buffer[0] = 1;
	pr_info("leaky: allocated 512 bytes and forgot where\n");
	return 0;
}

static void __exit leaky_exit(void)
{
	pr_info("leaky: unloading without kfree\n");
}

module_init(leaky_init);
module_exit(leaky_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("loses what init allocated");
