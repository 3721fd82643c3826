// SPDX-License-Identifier: GPL-2.0
/*
 * hello for stress runs: the stress-hello scenario loads and unloads it 200
 * times in one boot. Each load and unload prints one line, so every
 * iteration's kmsg shows that the init and exit routines really ran.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init hi(void)
{
	printk(KERN_INFO "stress_hello loaded.\n");
	return 0;
}

static void __exit bye(void)
{
	printk(KERN_INFO "stress_hello unloaded.\n");
}

module_init(hi);
module_exit(bye);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix stress_hello: hello, loaded and unloaded many times");
