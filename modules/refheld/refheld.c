// SPDX-License-Identifier: GPL-2.0
/*
 * A reference held from userspace. refheld registers the misc device
 * /dev/refheld whose file_operations name THIS_MODULE as owner: misc_open
 * takes a reference on the module (fops_get), so every open fd pins it
 * (refcnt 1) and delete_module fails with EWOULDBLOCK, O_NONBLOCK or not.
 * Under CONFIG_MODULE_FORCE_UNLOAD, O_TRUNC removes it anyway (taint R):
 * refheld_exit runs while the fd is still open, and the fd's later close
 * calls into freed module memory.
 */
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/printk.h>

static const struct file_operations refheld_fops = {
	.owner = THIS_MODULE,
};

static struct miscdevice refheld_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "refheld",
	.fops = &refheld_fops,
};

static int __init refheld_init(void)
{
	int ret = misc_register(&refheld_dev);

	if (ret)
		return ret;
	pr_info("refheld: init, /dev/refheld registered\n");
	return 0;
}

static void __exit refheld_exit(void)
{
	misc_deregister(&refheld_dev);
	pr_info("refheld: exit\n");
}

module_init(refheld_init);
module_exit(refheld_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix refheld: an open fd on a misc device pins the module");
