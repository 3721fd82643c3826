# modmatrix: `make run` runs the default matrix, `make test` the test suite.
# Both install what is missing through apt first (scripts/deps.sh): a run
# what it calls, the tests also what only they need (test-deps).

export PATH := $(PATH):/usr/local/go/bin
GO ?= go
ARGS ?=
# The Debian linux-source series make run installs (make test: all).
KERNELS ?= 6.12
# The end-to-end tests build kernels on a cold cache (minutes on 2 cores).
TEST_TIMEOUT ?= 85m
# make install: PREFIX and DESTDIR as every package build expects.
PREFIX ?= /usr/local
DESTDIR ?=
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# The man pages' date (cobra reads SOURCE_DATE_EPOCH): the commit's, not
# the build's, so two builds of one commit install the same pages.
MAN_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null)
# A Debian version starts with a digit: a tag's (v1.2.3 → 1.2.3), else
# 0~git plus the commit.
DEB_VERSION ?= $(shell v=$$(git describe --tags --exact-match 2>/dev/null) && echo $${v\#v} || echo 0~git$$(git rev-parse --short HEAD 2>/dev/null || echo 0))

.PHONY: run test unit lint bench deps test-deps build guest install deb clean

run: deps build
	./bin/modmatrix run $(ARGS)

test: test-deps
	$(GO) vet ./...
	$(GO) vet -tags faultinject ./harness/vm
	$(GO) test -count=1 -tags faultinject -run TestFaultSwitch ./harness/vm
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

# Unit tests only: no kernel builds, no QEMU.
unit:
	$(GO) test -short ./...

bench: deps build
	./bin/modmatrix bench $(ARGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags faultinject ./harness/vm
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# The binary carries the guest's programs (initramfs/guest, tag
# embedguest) and the built-in cells and scenarios: it runs from any
# directory without Go or this checkout.
build: guest
	$(GO) build -tags embedguest -ldflags '$(LDFLAGS)' -o bin/modmatrix ./cmd/modmatrix

# The binary, a man page per command and bash, zsh and fish completions.
install: build
	install -D -m 755 bin/modmatrix $(DESTDIR)$(PREFIX)/bin/modmatrix
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(if $(MAN_EPOCH),SOURCE_DATE_EPOCH=$(MAN_EPOCH)) bin/modmatrix man $(DESTDIR)$(PREFIX)/share/man/man1
	bin/modmatrix completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/modmatrix
	bin/modmatrix completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_modmatrix
	bin/modmatrix completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/modmatrix.fish

guest:
	$(GO) run ./initramfs/mkguest initramfs/guest

deps:
	@scripts/deps.sh --kernels $(KERNELS)

test-deps:
	@scripts/deps.sh --test

# A Debian package of what install installs, its Depends in
# packaging/control: bin/modmatrix_VERSION_amd64.deb.
deb:
	rm -rf bin/deb
	$(MAKE) install DESTDIR=$(CURDIR)/bin/deb PREFIX=/usr
	install -d bin/deb/DEBIAN
	sed 's/@VERSION@/$(DEB_VERSION)/' packaging/control > bin/deb/DEBIAN/control
	dpkg-deb --root-owner-group --build bin/deb bin/modmatrix_$(DEB_VERSION)_amd64.deb

clean:
	rm -rf bin modmatrix-out initramfs/guest/[!R]*
