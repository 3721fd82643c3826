// SPDX-License-Identifier: GPL-2.0
/*
 * oom_init: init allocates pages until the guest runs out of memory. The
 * OOM killer then picks the biggest process it may kill, which is the
 * loading agent itself (init is exempt, kernel memory counts for nobody);
 * the loop ends once that kill is pending, hands every page back and
 * fails, and the agent dies on its way out of finit_module.
 */
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>

static int __init oom_init_init(void)
{
	LIST_HEAD(pages);
	struct page *page, *next;
	unsigned long n = 0;

	pr_info("oom_init: allocating until the OOM killer runs\n");
	while (!fatal_signal_pending(current)) {
		page = alloc_page(GFP_KERNEL | __GFP_NOWARN);
		if (!page)
			break;
		list_add(&page->lru, &pages);
		n++;
	}
	list_for_each_entry_safe(page, next, &pages, lru)
		__free_page(page);
	pr_info("oom_init: gave back %lu pages\n", n);
	return -ENOMEM;
}

module_init(oom_init_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("init allocates until the OOM killer kills its loader");
