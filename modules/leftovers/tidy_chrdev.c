// SPDX-License-Identifier: GPL-2.0
/* leftover_chrdev.c's twin: the exit routine gives its major back. */
#include <linux/fs.h>
#include <linux/module.h>

static const struct file_operations tidy_chrdev_fops = {
	.owner = THIS_MODULE,
};

static int major;

static int __init tidy_chrdev_init(void)
{
	major = register_chrdev(0, "tidy_chrdev", &tidy_chrdev_fops);
	return major < 0 ? major : 0;
}

static void __exit tidy_chrdev_exit(void)
{
	unregister_chrdev(major, "tidy_chrdev");
}

module_init(tidy_chrdev_init);
module_exit(tidy_chrdev_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gives its character major back on exit");
