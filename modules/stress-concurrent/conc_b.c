// SPDX-License-Identifier: GPL-2.0
/*
 * One of two independent modules the stress-concurrent scenario loads and
 * unloads from two loops at once: module_mutex serialises the loader, so
 * both must come out of it with their own state.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/slab.h>

static void *conc_b_buf;

static int __init conc_b_init(void)
{
	conc_b_buf = kmalloc(64, GFP_KERNEL);
	return conc_b_buf ? 0 : -ENOMEM;
}

static void __exit conc_b_exit(void)
{
	kfree(conc_b_buf);
}

module_init(conc_b_init);
module_exit(conc_b_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix conc_b: loaded and unloaded concurrently with conc_a");
