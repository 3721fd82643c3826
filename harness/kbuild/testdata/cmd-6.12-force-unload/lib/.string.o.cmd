savedcmd_lib/string.o := gcc -Wp,-MMD,lib/.string.o.d -nostdinc -I/root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include -I./arch/x86/include/generated -I/root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include -I./include -I/root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/uapi -I./arch/x86/include/generated/uapi -I/root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi -I./include/generated/uapi -include /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/compiler-version.h -include /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/kconfig.h -include /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/compiler_types.h -D__KERNEL__ -fmacro-prefix-map=/root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/= -std=gnu11 -fshort-wchar -funsigned-char -fno-common -fno-PIE -fno-strict-aliasing -mno-sse -mno-mmx -mno-sse2 -mno-3dnow -mno-avx -fcf-protection=none -m64 -falign-jumps=1 -falign-loops=1 -mno-80387 -mno-fp-ret-in-387 -mpreferred-stack-boundary=3 -mskip-rax-setup -mtune=generic -mno-red-zone -mcmodel=kernel -Wno-sign-compare -fno-asynchronous-unwind-tables -fno-delete-null-pointer-checks -Os -fno-allow-store-data-races -fno-stack-protector -fomit-frame-pointer -ftrivial-auto-var-init=zero -fno-stack-clash-protection -falign-functions=16 -fno-strict-overflow -fno-stack-check -fconserve-stack -fno-builtin-wcslen -fno-builtin-wcslen -Wall -Wextra -Wundef -Werror=implicit-function-declaration -Werror=implicit-int -Werror=return-type -Werror=strict-prototypes -Wno-format-security -Wno-trigraphs -Wno-frame-address -Wno-address-of-packed-member -Wmissing-declarations -Wmissing-prototypes -Wframe-larger-than=2048 -Wno-main -Wno-dangling-pointer -Wvla -Wno-pointer-sign -Wcast-function-type -Wno-array-bounds -Wno-stringop-overflow -Wno-alloc-size-larger-than -Wimplicit-fallthrough=5 -Werror=date-time -Werror=incompatible-pointer-types -Werror=designated-init -Wenum-conversion -Wunused -Wno-unused-but-set-variable -Wno-unused-const-variable -Wno-packed-not-aligned -Wno-format-overflow -Wno-format-truncation -Wno-stringop-truncation -Wno-override-init -Wno-missing-field-initializers -Wno-type-limits -Wno-shift-negative-value -Wno-maybe-uninitialized -Wno-sign-compare -Wno-unused-parameter -ffreestanding -I/root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/lib -Ilib    -DKBUILD_MODFILE='"lib/string"' -DKBUILD_BASENAME='"string"' -DKBUILD_MODNAME='"string"' -D__KBUILD_MODNAME=kmod_string -c -o lib/string.o /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/lib/string.c   ; ./tools/objtool/objtool --hacks=jump_label --hacks=noinstr --static-call --uaccess   lib/string.o

source_lib/string.o := /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/lib/string.c

deps_lib/string.o := \
    $(wildcard include/config/DCACHE_WORD_ACCESS) \
    $(wildcard include/config/HAVE_EFFICIENT_UNALIGNED_ACCESS) \
    $(wildcard include/config/KMSAN) \
    $(wildcard include/config/ARCH_HAS_FAST_MULTIPLIER) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/compiler-version.h \
    $(wildcard include/config/CC_VERSION_TEXT) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/kconfig.h \
    $(wildcard include/config/CPU_BIG_ENDIAN) \
    $(wildcard include/config/BOOGER) \
    $(wildcard include/config/FOO) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/compiler_types.h \
    $(wildcard include/config/DEBUG_INFO_BTF) \
    $(wildcard include/config/PAHOLE_HAS_BTF_TAG) \
    $(wildcard include/config/FUNCTION_ALIGNMENT) \
    $(wildcard include/config/CC_HAS_SANE_FUNCTION_ALIGNMENT) \
    $(wildcard include/config/X86_64) \
    $(wildcard include/config/ARM64) \
    $(wildcard include/config/LD_DEAD_CODE_DATA_ELIMINATION) \
    $(wildcard include/config/LTO_CLANG) \
    $(wildcard include/config/HAVE_ARCH_COMPILER_H) \
    $(wildcard include/config/KCSAN) \
    $(wildcard include/config/CC_HAS_COUNTED_BY) \
    $(wildcard include/config/UBSAN_SIGNED_WRAP) \
    $(wildcard include/config/CC_HAS_ASM_INLINE) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/compiler-context-analysis.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/compiler_attributes.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/compiler-gcc.h \
    $(wildcard include/config/MITIGATION_RETPOLINE) \
    $(wildcard include/config/ARCH_USE_BUILTIN_BSWAP) \
    $(wildcard include/config/SHADOW_CALL_STACK) \
    $(wildcard include/config/KCOV) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/bits.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/const.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/vdso/const.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/const.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/vdso/bits.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/bits.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/uapi/asm/bitsperlong.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/bitsperlong.h \
    $(wildcard include/config/64BIT) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/asm-generic/bitsperlong.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/build_bug.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/compiler.h \
    $(wildcard include/config/TRACE_BRANCH_PROFILING) \
    $(wildcard include/config/PROFILE_ALL_BRANCHES) \
    $(wildcard include/config/OBJTOOL) \
  arch/x86/include/generated/asm/rwonce.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/rwonce.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/kasan-checks.h \
    $(wildcard include/config/KASAN_GENERIC) \
    $(wildcard include/config/KASAN_SW_TAGS) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/types.h \
    $(wildcard include/config/HAVE_UID16) \
    $(wildcard include/config/UID16) \
    $(wildcard include/config/ARCH_DMA_ADDR_T_64BIT) \
    $(wildcard include/config/PHYS_ADDR_T_64BIT) \
    $(wildcard include/config/ARCH_32BIT_USTAT_F_TINODE) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/types.h \
  arch/x86/include/generated/uapi/asm/types.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/asm-generic/types.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/int-ll64.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/asm-generic/int-ll64.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/posix_types.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/stddef.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/stddef.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/posix_types.h \
    $(wildcard include/config/X86_32) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/uapi/asm/posix_types_64.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/asm-generic/posix_types.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/kcsan-checks.h \
    $(wildcard include/config/KCSAN_WEAK_MEMORY) \
    $(wildcard include/config/KCSAN_IGNORE_ATOMICS) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/overflow.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/limits.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/limits.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/vdso/limits.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/bug.h \
    $(wildcard include/config/GENERIC_BUG) \
    $(wildcard include/config/BUG_ON_DATA_CORRUPTION) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/bug.h \
    $(wildcard include/config/DEBUG_BUGVERBOSE) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/stringify.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/instrumentation.h \
    $(wildcard include/config/NOINSTR_VALIDATION) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/objtool.h \
    $(wildcard include/config/FRAME_POINTER) \
    $(wildcard include/config/MITIGATION_UNRET_ENTRY) \
    $(wildcard include/config/MITIGATION_SRSO) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/objtool_types.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/asm.h \
    $(wildcard include/config/KPROBES) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/extable_fixup_types.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/bug.h \
    $(wildcard include/config/BUG) \
    $(wildcard include/config/GENERIC_BUG_RELATIVE_POINTERS) \
    $(wildcard include/config/SMP) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/once_lite.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/panic.h \
    $(wildcard include/config/PANIC_TIMEOUT) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/printk.h \
    $(wildcard include/config/MESSAGE_LOGLEVEL_DEFAULT) \
    $(wildcard include/config/CONSOLE_LOGLEVEL_DEFAULT) \
    $(wildcard include/config/CONSOLE_LOGLEVEL_QUIET) \
    $(wildcard include/config/EARLY_PRINTK) \
    $(wildcard include/config/PRINTK) \
    $(wildcard include/config/PRINTK_INDEX) \
    $(wildcard include/config/DYNAMIC_DEBUG) \
    $(wildcard include/config/DYNAMIC_DEBUG_CORE) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/stdarg.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/init.h \
    $(wildcard include/config/MEMORY_HOTPLUG) \
    $(wildcard include/config/HAVE_ARCH_PREL32_RELOCATIONS) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/kern_levels.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/linkage.h \
    $(wildcard include/config/ARCH_USE_SYM_ANNOTATIONS) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/export.h \
    $(wildcard include/config/MODVERSIONS) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/linkage.h \
    $(wildcard include/config/CALL_PADDING) \
    $(wildcard include/config/MITIGATION_RETHUNK) \
    $(wildcard include/config/MITIGATION_SLS) \
    $(wildcard include/config/FUNCTION_PADDING_BYTES) \
    $(wildcard include/config/UML) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/ibt.h \
    $(wildcard include/config/X86_KERNEL_IBT) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/ratelimit_types.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/param.h \
  arch/x86/include/generated/uapi/asm/param.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/param.h \
    $(wildcard include/config/HZ) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/asm-generic/param.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/spinlock_types_raw.h \
    $(wildcard include/config/DEBUG_SPINLOCK) \
    $(wildcard include/config/DEBUG_LOCK_ALLOC) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/spinlock_types_up.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/lockdep_types.h \
    $(wildcard include/config/PROVE_RAW_LOCK_NESTING) \
    $(wildcard include/config/LOCKDEP) \
    $(wildcard include/config/LOCK_STAT) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/ctype.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/errno.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/errno.h \
  arch/x86/include/generated/uapi/asm/errno.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/asm-generic/errno.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/asm-generic/errno-base.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/string.h \
    $(wildcard include/config/BINARY_PRINTF) \
    $(wildcard include/config/FORTIFY_SOURCE) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/args.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/array_size.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/err.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/string.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/string.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/string_64.h \
    $(wildcard include/config/ARCH_HAS_UACCESS_FLUSHCACHE) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/jump_label.h \
    $(wildcard include/config/JUMP_LABEL) \
    $(wildcard include/config/HAVE_ARCH_JUMP_LABEL_RELATIVE) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/atomic.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/atomic.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/alternative.h \
    $(wildcard include/config/CALL_THUNKS) \
    $(wildcard include/config/MITIGATION_ITS) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/cmpxchg.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/cpufeatures.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/required-features.h \
    $(wildcard include/config/X86_MINIMUM_CPU_FAMILY) \
    $(wildcard include/config/MATH_EMULATION) \
    $(wildcard include/config/X86_PAE) \
    $(wildcard include/config/X86_CMPXCHG64) \
    $(wildcard include/config/X86_CMOV) \
    $(wildcard include/config/X86_P6_NOP) \
    $(wildcard include/config/MATOM) \
    $(wildcard include/config/PARAVIRT_XXL) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/disabled-features.h \
    $(wildcard include/config/X86_UMIP) \
    $(wildcard include/config/X86_INTEL_MEMORY_PROTECTION_KEYS) \
    $(wildcard include/config/X86_5LEVEL) \
    $(wildcard include/config/MITIGATION_PAGE_TABLE_ISOLATION) \
    $(wildcard include/config/MITIGATION_CALL_DEPTH_TRACKING) \
    $(wildcard include/config/ADDRESS_MASKING) \
    $(wildcard include/config/INTEL_IOMMU_SVM) \
    $(wildcard include/config/X86_SGX) \
    $(wildcard include/config/XEN_PV) \
    $(wildcard include/config/INTEL_TDX_GUEST) \
    $(wildcard include/config/X86_USER_SHADOW_STACK) \
    $(wildcard include/config/X86_FRED) \
    $(wildcard include/config/KVM_AMD_SEV) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/cmpxchg_64.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/rmwcc.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/barrier.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/nops.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/barrier.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/atomic64_64.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/atomic/atomic-arch-fallback.h \
    $(wildcard include/config/GENERIC_ATOMIC64) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/atomic/atomic-long.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/atomic/atomic-instrumented.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/instrumented.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/kmsan-checks.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/page.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/page_types.h \
    $(wildcard include/config/PAGE_SHIFT) \
    $(wildcard include/config/PHYSICAL_START) \
    $(wildcard include/config/PHYSICAL_ALIGN) \
    $(wildcard include/config/DYNAMIC_PHYSICAL_MASK) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/mem_encrypt.h \
    $(wildcard include/config/ARCH_HAS_MEM_ENCRYPT) \
    $(wildcard include/config/AMD_MEM_ENCRYPT) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/mem_encrypt.h \
    $(wildcard include/config/X86_MEM_ENCRYPT) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/cc_platform.h \
    $(wildcard include/config/ARCH_HAS_CC_PLATFORM) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/page_64_types.h \
    $(wildcard include/config/KASAN) \
    $(wildcard include/config/DYNAMIC_MEMORY_LAYOUT) \
    $(wildcard include/config/RANDOMIZE_BASE) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/kaslr.h \
    $(wildcard include/config/RANDOMIZE_MEMORY) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/page_64.h \
    $(wildcard include/config/DEBUG_VIRTUAL) \
    $(wildcard include/config/X86_VSYSCALL_EMULATION) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/range.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/memory_model.h \
    $(wildcard include/config/FLATMEM) \
    $(wildcard include/config/SPARSEMEM_VMEMMAP) \
    $(wildcard include/config/SPARSEMEM) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/pfn.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/getorder.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/log2.h \
    $(wildcard include/config/ARCH_HAS_ILOG2_U32) \
    $(wildcard include/config/ARCH_HAS_ILOG2_U64) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/bitops.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/typecheck.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/kernel.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/sysinfo.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/bitops/generic-non-atomic.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/bitops.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/bitops/sched.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/arch_hweight.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/bitops/const_hweight.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/bitops/instrumented-atomic.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/bitops/instrumented-non-atomic.h \
    $(wildcard include/config/KCSAN_ASSUME_PLAIN_WRITES_ATOMIC) \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/bitops/instrumented-lock.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/bitops/le.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/uapi/asm/byteorder.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/byteorder/little_endian.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/byteorder/little_endian.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/swab.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/uapi/linux/swab.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/uapi/asm/swab.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/byteorder/generic.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/asm-generic/bitops/ext2-atomic-setbit.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/unaligned.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/unaligned/packed_struct.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/vdso/unaligned.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/arch/x86/include/asm/word-at-a-time.h \
  /root/.cache/modmatrix/src/linux-source-6.12-39e49263454a/include/linux/wordpart.h \

lib/string.o: $(deps_lib/string.o)

$(deps_lib/string.o):

lib/string.o: $(wildcard ./tools/objtool/objtool)
