#!/usr/bin/python3
# bench.py: `make -f tests/policy.mk bench`: generates Hearth-shaped policy
# sets of 10, 100 and 1,000 policies (a permit per service and category
# with conditions on purpose, consent, budget and time; some forbids), an
# entity store (services, category hierarchy) and requests, then runs
# `hearth-policy bench` and scripts/cedar-wasm/bench.cjs on the same files
# and prints decisions/s, p50/p99 latency and the throughput ratio. Also
# checks that both engines gave the same number of allows.
# Assumes python3 stdlib and node; a non-sanitized -O2 hearth-policy.
# Leaves out gating: it reports, it never fails on a time.
import argparse
import json
import os
import random
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH_JS = os.path.join(HERE, '..', '..', 'scripts', 'cedar-wasm', 'bench.cjs')
PURPOSES = ['recommendation', 'analytics', 'ads', 'research']


def gen(n, rnd, d):
    cats = ['viewing', 'listening', 'location', 'health', 'purchases']
    sub = [c + '.' + s for c in cats for s in ('history', 'summary', 'raw')]
    nserv = max(5, n // 4)
    services = ['svc%d' % i for i in range(nserv)]
    ents = [{'uid': {'type': 'Category', 'id': c}, 'attrs': {'sensitive': c in ('health', 'location')},
             'parents': []} for c in cats]
    ents += [{'uid': {'type': 'Category', 'id': s}, 'attrs': {'sensitive': s.startswith(('health', 'location'))},
              'parents': [{'type': 'Category', 'id': s.split('.')[0]}]} for s in sub]
    ents += [{'uid': {'type': 'Service', 'id': s}, 'attrs': {'trusted': rnd.random() < 0.5,
              'purposes': rnd.sample(PURPOSES, 3)}, 'parents': [{'type': 'ServiceGroup', 'id': 'all'}]}
             for s in services]
    ents += [{'uid': {'type': 'Action', 'id': a}, 'attrs': {}, 'parents': []} for a in ('share', 'pull')]
    pols = []
    hits = []
    for i in range(n):
        if i % 10 == 9:
            pols.append('forbid (principal == Service::"%s", action, resource in Category::"%s")\n'
                        'unless { principal.trusted && context.consent };\n'
                        % (rnd.choice(services), rnd.choice(cats)))
            continue
        svc, act, cat, pur = services[i % nserv], rnd.choice(['share', 'pull']), rnd.choice(cats + sub), rnd.choice(PURPOSES)
        hits.append((svc, act, cat if '.' in cat else cat + '.history', pur))
        pols.append('@transform("drop(title); generalize(time, day)")\n'
                    'permit (principal == Service::"%s", action == Action::"%s", resource in Category::"%s")\n'
                    'when { context.purpose == "%s" && principal.purposes.contains(context.purpose) &&\n'
                    '  context.budget_left.greaterThan(decimal("0.%d")) && context.hour >= %d && context.hour < %d };\n'
                    % (svc, act, cat, pur, rnd.randrange(1, 4), rnd.randrange(0, 8), rnd.randrange(16, 24)))
    reqs = []
    for i in range(200):
        # half the requests aim at a permit's scope (and usually satisfy it)
        svc, act, cat, pur = rnd.choice(hits) if i % 2 else (
            rnd.choice(services), rnd.choice(['share', 'pull']), rnd.choice(sub), rnd.choice(PURPOSES))
        reqs.append({'principal': {'type': 'Service', 'id': svc},
                     'action': {'type': 'Action', 'id': act},
                     'resource': {'type': 'Category', 'id': cat},
                     'context': {'purpose': pur, 'consent': rnd.random() < 0.8,
                                 'hour': rnd.randrange(8, 16),
                                 'budget_left': {'__extn': {'fn': 'decimal', 'arg': '0.%d' % rnd.randrange(4, 10)}}}})
    paths = [os.path.join(d, 'p%d.%s' % (n, x)) for x in ('cedar', 'entities.json', 'requests.json')]
    with open(paths[0], 'w') as f:
        f.write(''.join(pols))
    with open(paths[1], 'w') as f:
        json.dump(ents, f)
    with open(paths[2], 'w') as f:
        json.dump(reqs, f)
    return paths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', required=True)
    ap.add_argument('--modules', required=True)
    ap.add_argument('--out', default='build/policy/bench')
    ap.add_argument('--seconds', default='2')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rnd = random.Random(7)
    env = dict(os.environ, CEDAR_WASM_MODULES=os.path.abspath(a.modules))
    print('%-9s %-14s %12s %10s %10s' % ('policies', 'engine', 'decisions/s', 'p50 us', 'p99 us'))
    for n in (10, 100, 1000):
        p, e, r = gen(n, rnd, a.out)
        args = ['--policies', p, '--entities', e, '--requests', r, '--seconds', a.seconds]
        ours = json.loads(subprocess.check_output([a.cli, 'bench'] + args))
        ref = json.loads(subprocess.check_output(['node', BENCH_JS] + args, env=env))
        for name, x in (('hearth-policy', ours), ('cedar-wasm', ref)):
            print('%-9d %-14s %12d %10.2f %10.2f' % (n, name, x['per_second'], x['p50_us'], x['p99_us']))
        ra = ours['allow'] / max(ours['decisions'], 1)
        rb = ref['allow'] / max(ref['decisions'], 1)
        print('%-9d ratio          %11.0fx   (allow rate %.3f vs %.3f%s)' % (
            n, ours['per_second'] / max(ref['per_second'], 1), ra, rb,
            '' if abs(ra - rb) < 0.02 else ', DIFFERENT'))


if __name__ == '__main__':
    main()
