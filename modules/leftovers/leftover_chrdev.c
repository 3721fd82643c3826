// SPDX-License-Identifier: GPL-2.0
/*
 * Registers a character major named leftover_chrdev in init; the exit
 * routine forgets unregister_chrdev(), so /proc/devices still lists the
 * major after the unload and the next load's register_chrdev gets another
 * one. tidy_chrdev.c is the correct twin.
 */
#include <linux/fs.h>
#include <linux/module.h>

static const struct file_operations leftover_chrdev_fops = {
	.owner = THIS_MODULE,
};

static int __init leftover_chrdev_init(void)
{
	int major = register_chrdev(0, "leftover_chrdev", &leftover_chrdev_fops);

	return major < 0 ? major : 0;
}

static void __exit leftover_chrdev_exit(void)
{
	/* Bug: unregister_chrdev(major, "leftover_chrdev") is missing. */
}

module_init(leftover_chrdev_init);
module_exit(leftover_chrdev_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("exit forgets its character major");
