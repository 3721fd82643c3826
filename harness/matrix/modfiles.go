package matrix

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/modfile"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/initramfs"
)

// signsByDefault tells whether k's modules are signed with its own key
// unless a step says otherwise: MODULE_SIG_ALL, as modules_install signs
// them, on a tree whose key we have (a prebuilt kernel's is its vendor's).
func signsByDefault(k *kbuild.Kernel) (modfile.Key, bool) {
	if !k.Config.Enabled("MODULE_SIG_ALL") {
		return modfile.Key{}, false
	}
	return modfile.KernelKey(k.Dir)
}

// makeFiles writes the module files scenario sc loads that Kbuild did not
// make itself: each module signed with the kernel's key where that is the
// default, and the variants its steps ask for (`signed:`, `compressed:`),
// made from the unsigned build.
func (r *cellRun) makeFiles(ctx context.Context, k *kbuild.Kernel, sc *scenario.Scenario) error {
	kos := r.kos[sc.Name]
	dir := filepath.Join(r.out, "modfiles", sc.Name)
	built := map[string]string{}
	for stem, p := range kos {
		built[stem] = p
	}
	kernelKey, signDefault := signsByDefault(k)
	hash := k.Config.Value("MODULE_SIG_HASH")
	if signDefault {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for stem, p := range built {
			out := filepath.Join(dir, stem+".ko")
			if err := modfile.Sign(ctx, k.Dir, hash, kernelKey, p, out); err != nil {
				return fmt.Errorf("%s: signing %s with the kernel's key: %w", sc.File, stem, err)
			}
			kos[stem] = out
		}
	}
	var otherKey *modfile.Key
	for _, st := range sc.FlatSteps() {
		v := st.Variant()
		if st.Action != protocol.ActionLoad || v == "" {
			continue
		}
		stem := strings.TrimSuffix(st.Plan().File, ".ko")
		orig := built[strings.TrimSuffix(stem, "+"+v)]
		if orig == "" {
			return fmt.Errorf("%s:%d: no built module for %s", sc.File, st.Line, stem)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		out := filepath.Join(dir, stem+".ko")
		signed := st.Signed
		if signed == "" && signDefault {
			signed = scenario.SignedKernelKey
		}
		switch signed {
		case "", scenario.SignedNone:
			if err := copyFile(orig, out); err != nil {
				return err
			}
		case scenario.SignedKernelKey, scenario.SignedCorrupted:
			key, ok := modfile.KernelKey(k.Dir)
			if !ok {
				return fmt.Errorf("%s:%d: signed: %s: %s has no signing key of its own (MODULE_SIG unset, or a prebuilt kernel); give the scenario `requires: MODULE_SIG_ALL`", sc.File, st.Line, signed, k)
			}
			if err := modfile.Sign(ctx, k.Dir, hash, key, orig, out); err != nil {
				return fmt.Errorf("%s:%d: %w", sc.File, st.Line, err)
			}
			if signed == scenario.SignedCorrupted {
				if err := modfile.CorruptSignature(out); err != nil {
					return fmt.Errorf("%s:%d: %w", sc.File, st.Line, err)
				}
			}
		case scenario.SignedOtherKey:
			if _, ok := modfile.KernelKey(k.Dir); !ok {
				return fmt.Errorf("%s:%d: signed: other-key: %s has no scripts/sign-file (MODULE_SIG unset, or a prebuilt kernel); give the scenario `requires: MODULE_SIG_ALL`", sc.File, st.Line, k)
			}
			if otherKey == nil {
				// In the scenario's own folder: a deferred scenario makes its
				// files while another's are made.
				key, err := modfile.NewKey(dir)
				if err != nil {
					return err
				}
				otherKey = &key
			}
			if err := modfile.Sign(ctx, k.Dir, hash, *otherKey, orig, out); err != nil {
				return fmt.Errorf("%s:%d: %w", sc.File, st.Line, err)
			}
		}
		if c := st.Compressed; c != "" {
			if err := modfile.Compress(out, out, c.Algorithm(), c.IsCorrupted()); err != nil {
				return fmt.Errorf("%s:%d: compressed: %w", sc.File, st.Line, err)
			}
		}
		kos[stem] = out
	}
	return nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// depmod indexes the scenario's modules as they will be in the guest
// (ModuleDir/SCENARIO/NAME.ko, ModuleDir being /lib/modules/RELEASE
// there), so that modprobe steps, and the kernel's request_module
// through modprobe, find them by name and alias. The variants a step
// makes (signed:, compressed:, built_for:) are not in it: modprobe loads
// the modules as built for this kernel.
func (r *cellRun) depmod(ctx context.Context, k *kbuild.Kernel, sc *scenario.Scenario) error {
	kmod, err := initramfs.HostKmod()
	if err != nil {
		return err
	}
	kos := map[string]string{}
	for stem, p := range r.kos[sc.Name] {
		if !strings.ContainsAny(stem, "+@") { // not a variant, nor built_for another kernel
			kos[sc.Name+"/"+stem+".ko"] = p
		}
	}
	index, err := modfile.Index(ctx, kmod, k.Dir, k.Release, kos, filepath.Join(r.out, "depmod", sc.Name))
	if err != nil {
		return fmt.Errorf("%s: %w", sc.File, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.indexes == nil {
		r.indexes = map[string]map[string]string{}
	}
	r.indexes[sc.Name] = index
	return nil
}
