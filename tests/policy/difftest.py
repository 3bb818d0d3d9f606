#!/usr/bin/python3
# difftest.py: differential test of hearth-policy against the reference
# Cedar (cedar-wasm). Generates random entity stores, policy sets (every
# expression form, ill-typed and erroring ones included) and requests from a
# seed, runs both (`hearth-policy batch` and scripts/cedar-wasm/reference.cjs)
# and compares decision, reasons and the set of erroring policies, and that
# both accept or both reject the policy text.
# Assumes python3 stdlib only; node on PATH. Leaves out schemas (schema-less
# authorization only) and templates.
# Exit status: 0 when every case agrees; mismatches are written to
# OUT/mismatch-N.json (replay one with --replay FILE).
import argparse
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, '..', '..', 'scripts', 'cedar-wasm', 'reference.cjs')

TYPES = ['User', 'Group', 'Photo', 'Album', 'NS::Thing']
IDS = ['alice', 'bob', 'carol', 'a', 'b', '', 'x y', 'é']
ACTIONS = ['view', 'edit', 'delete', 'readOnly', 'all']
ATTRS = ['name', 'age', 'tags', 'owner', 'rec', 'flag', 'ip', 'score', 'when', 'd', 'opt']
TYPED_ATTRS = {'name': 'string', 'age': 'long', 'tags': 'set', 'owner': 'entity', 'flag': 'bool'}
STRS = ['', 'a', 'abc', 'ab*c', 'hello world', 'x\\y', 'é', 'A', 'ABC', '*']


class Gen:
    def __init__(self, rnd):
        self.r = rnd
        self.typed = False

    def pick(self, xs):
        return self.r.choice(xs)

    def uid(self, types=None):
        return {'type': self.pick(types or TYPES), 'id': self.pick(IDS)}

    def action_uid(self):
        return {'type': 'Action', 'id': self.pick(ACTIONS)}

    # ---- values (JSON) ----
    def jvalue(self, depth=0):
        k = self.r.randrange(11 if depth < 2 else 6)
        if k == 0:
            return self.r.choice([True, False])
        if k == 1:
            return self.r.choice([0, 1, -1, 7, 42, 2**31, -(2**40), 9007199254740991])
        if k == 2:
            return self.pick(STRS)
        if k == 3:
            return {'__entity': self.uid()}
        if k == 4:
            return {'__extn': self.pick([
                {'fn': 'ip', 'arg': self.pick(['10.0.0.1', '192.168.1.0/24', '::1', '127.0.0.1'])},
                {'fn': 'decimal', 'arg': self.pick(['1.5', '-0.25', '100.0001', '0.0'])},
                {'fn': 'datetime', 'arg': self.pick(['2024-01-01', '2024-02-29T12:00:00Z', '1970-01-01T00:00:00.001+0100'])},
                {'fn': 'duration', 'arg': self.pick(['1h', '-2d3m', '1ms', '0s'])},
            ])}
        if k == 5:
            return self.pick(STRS[:4])
        if k in (6, 7):
            return [self.jvalue(depth + 1) for _ in range(self.r.randrange(4))]
        return {self.pick(ATTRS): self.jvalue(depth + 1) for _ in range(self.r.randrange(4))}

    # ---- well-typed expressions (most conditions evaluate, so allows and
    # forbids decide more often); attribute types follow TYPED_ATTRS ----
    def tattr(self, ty):
        names = [a for a, t in TYPED_ATTRS.items() if t == ty]
        v = self.pick(['principal', 'resource', 'context'])
        return '%s.%s' % (v, self.pick(names)) if names else None

    def texpr(self, ty, d):
        r = self.r
        if d <= 0 or r.random() < 0.25:
            if ty == 'bool':
                return self.pick(['true', 'false', '(%s has %s)' % (self.var(), self.pick(ATTRS)), self.tattr('bool')])
            if ty == 'long':
                return self.pick([str(r.randrange(-5, 50)), self.tattr('long')])
            if ty == 'string':
                return self.pick([self.string(), self.tattr('string')])
            if ty == 'entity':
                return self.pick(['principal', 'resource', self.lit_uid(self.uid()), self.tattr('entity')])
            return self.pick(['[%s]' % ', '.join(self.texpr('string', 0) for _ in range(r.randrange(3))),
                              self.tattr('set')])
        t = lambda ty2: self.texpr(ty2, d - 1)
        if ty == 'bool':
            k = r.randrange(12)
            if k == 0: return '(%s && %s)' % (t('bool'), t('bool'))
            if k == 1: return '(%s || %s)' % (t('bool'), t('bool'))
            if k == 2: return '!%s' % t('bool')
            if k == 3: return '(%s %s %s)' % (t('long'), self.pick(['<', '<=', '>', '>=', '==', '!=']), t('long'))
            if k == 4: return '(%s == %s)' % (t('string'), t('string'))
            if k == 5: return '(%s in %s)' % (t('entity'), t('entity'))
            if k == 6: return '%s.contains(%s)' % (t('set'), t('string'))
            if k == 7: return '(%s like "%s")' % (t('string'), self.pick(['*', 'a*', '*c', 'a*c', '']))
            if k == 8: return '(if %s then %s else %s)' % (t('bool'), t('bool'), t('bool'))
            if k == 9: return '(%s is %s)' % (t('entity'), self.pick(TYPES))
            if k == 10: return '(%s == %s)' % (t('entity'), t('entity'))
            return '%s.%s(%s)' % (t('set'), self.pick(['containsAll', 'containsAny']), t('set'))
        if ty == 'long':
            k = r.randrange(3)
            if k == 0: return '(%s %s %s)' % (t('long'), self.pick(['+', '-', '*']), t('long'))
            if k == 1: return '(if %s then %s else %s)' % (t('bool'), t('long'), t('long'))
            return '-%s' % t('long')
        if ty == 'entity':
            return self.pick(['principal.owner', 'resource.owner', '(if %s then principal else resource)' % t('bool')])
        return self.texpr(ty, 0)

    def tvalue(self, ty):
        if ty == 'bool': return self.r.random() < 0.5
        if ty == 'long': return self.r.randrange(-5, 50)
        if ty == 'string': return self.pick(STRS)
        if ty == 'entity': return {'__entity': self.uid()}
        if ty == 'set': return self.r.sample(STRS, self.r.randrange(4))
        return self.jvalue()

    def entities(self):
        ents = {}
        for _ in range(self.r.randrange(2, 9)):
            u = self.uid()
            key = (u['type'], u['id'])
            ents[key] = {'uid': u, 'attrs': {}, 'parents': [], 'tags': {}}
        keys = list(ents)
        for key, e in ents.items():
            for a in self.r.sample(ATTRS, self.r.randrange(0, 6)):
                e['attrs'][a] = self.jvalue()
            if self.typed:
                for a, ty in TYPED_ATTRS.items():
                    if self.r.random() < 0.9:
                        e['attrs'][a] = self.tvalue(ty)
            if self.r.random() < 0.5:
                e['attrs']['owner'] = {'__entity': self.uid()}
            for _ in range(self.r.randrange(3)):
                if self.r.random() < 0.7 and keys:
                    p = self.pick(keys)
                    pu = {'type': p[0], 'id': p[1]}
                else:
                    pu = self.uid()
                if pu not in e['parents'] and (pu['type'], pu['id']) != key:
                    e['parents'].append(pu)
            if self.r.random() < 0.3:
                e['tags'] = {self.pick(['t', 'u', 'name']): self.jvalue(1)}
        out = list(ents.values())
        # actions with a hierarchy
        acts = [{'uid': {'type': 'Action', 'id': a}, 'attrs': {}, 'parents': []} for a in ACTIONS]
        acts[0]['parents'] = [{'type': 'Action', 'id': 'readOnly'}]
        acts[3]['parents'] = [{'type': 'Action', 'id': 'all'}]
        acts[1]['parents'] = [{'type': 'Action', 'id': 'all'}]
        return out + acts

    # ---- policy text ----
    def lit_uid(self, u):
        return '%s::%s' % (u['type'], json.dumps(u['id'], ensure_ascii=False))

    def string(self):
        s = self.pick(STRS)
        return json.dumps(s, ensure_ascii=False)

    def var(self):
        return self.pick(['principal', 'resource', 'context', 'action'])

    def expr(self, d):
        r = self.r
        if d <= 0:
            k = r.randrange(9)
            return [
                lambda: self.pick(['true', 'false']),
                lambda: str(r.choice([0, 1, 2, -3, 100, 9223372036854775807, -9223372036854775808])),
                lambda: self.string(),
                lambda: self.var(),
                lambda: self.lit_uid(self.uid()),
                lambda: self.var() + '.' + self.pick(ATTRS),
                lambda: '%s["%s"]' % (self.var(), self.pick(ATTRS)),
                lambda: 'context.' + self.pick(ATTRS),
                lambda: self.pick(['principal.owner', 'resource.owner', 'principal.rec.name']),
            ][k]()
        e = lambda: self.expr(d - 1)
        k = r.randrange(40)
        if k == 0: return '!%s' % e()
        if k == 1: return '-%s' % e()
        if k == 2: return '(%s && %s)' % (e(), e())
        if k == 3: return '(%s || %s)' % (e(), e())
        if k == 4: return '(if %s then %s else %s)' % (e(), e(), e())
        if k == 5: return '(%s == %s)' % (e(), e())
        if k == 6: return '(%s != %s)' % (e(), e())
        if k == 7: return '(%s %s %s)' % (e(), self.pick(['<', '<=', '>', '>=']), e())
        if k == 8: return '(%s %s %s)' % (e(), self.pick(['+', '-', '*']), e())
        if k == 9: return '(%s in %s)' % (e(), e())
        if k == 10: return '(%s in [%s])' % (self.var(), ', '.join(self.lit_uid(self.uid()) for _ in range(r.randrange(3))))
        if k == 11: return '(%s has %s)' % (e(), self.pick(ATTRS))
        if k == 12: return '(%s has %s.%s)' % (self.var(), self.pick(ATTRS), self.pick(ATTRS))
        if k == 13: return '(%s like "%s")' % (e(), self.pick(['*', 'a*', '*c', 'a*c', '\\*', '', 'abc', '*b*', 'é*']))
        if k == 14: return '(%s is %s)' % (e(), self.pick(TYPES))
        if k == 15: return '(%s is %s in %s)' % (e(), self.pick(TYPES), e())
        if k == 16: return '[%s]' % ', '.join(e() for _ in range(r.randrange(4)))
        if k == 17: return '{%s}' % ', '.join('%s: %s' % (a, e()) for a in r.sample(ATTRS, r.randrange(4)))
        if k == 18: return '%s.contains(%s)' % (e(), e())
        if k == 19: return '%s.%s(%s)' % (e(), self.pick(['containsAll', 'containsAny']), e())
        if k == 20: return '%s.isEmpty()' % e()
        if k == 21: return '%s.%s(%s)' % (self.pick(['principal', 'resource', e()]), self.pick(['getTag', 'hasTag']), self.pick(['"t"', '"u"', '"name"', e()]))
        if k == 22: return 'ip(%s)' % self.pick(['"10.0.0.1"', '"10.0.0.0/8"', '"::1"', '"ff02::1"', '"224.1.2.3"', '"127.0.0.1/8"', '"bad"', '"1.2.3.4/33"', e()])
        if k == 23: return '%s.%s()' % (self.pick(['ip("10.1.2.3")', 'ip("127.0.0.1")', 'ip("::1")', 'ip("ff02::1/16")', 'context.ip', e()]), self.pick(['isIpv4', 'isIpv6', 'isLoopback', 'isMulticast']))
        if k == 24: return '%s.isInRange(%s)' % (self.pick(['ip("10.1.2.3")', 'ip("10.0.0.0/16")', 'context.ip', e()]), self.pick(['ip("10.0.0.0/8")', 'ip("10.1.0.0/16")', 'ip("::/0")', e()]))
        if k == 25: return 'decimal(%s)' % self.pick(['"1.5"', '"-2.25"', '"1.23456"', '"922337203685477.5807"', '"922337203685477.5808"', '"1."', '"abc"', e()])
        if k == 26: return '%s.%s(%s)' % (self.pick(['decimal("1.5")', 'context.score', e()]), self.pick(['lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual']), self.pick(['decimal("1.50")', 'decimal("-3.0")', e()]))
        if k == 27: return 'datetime(%s)' % self.pick(['"2024-01-01"', '"2024-02-30"', '"2023-12-31T23:59:59Z"', '"2024-06-01T12:00:00.123-0230"', '"1969-12-31T23:59:59.999Z"', '"bad"', e()])
        if k == 28: return 'duration(%s)' % self.pick(['"1d2h3m4s5ms"', '"-1h"', '"90m"', '"1h1d"', '"5"', '"9223372036854775807ms"', '"9223372036854775807d"', e()])
        if k == 29: return '%s.%s(%s)' % (self.pick(['datetime("2024-01-01T10:00:00Z")', 'datetime("1969-12-31T23:00:00Z")', 'context.when', e()]), self.pick(['offset', 'durationSince']), self.pick(['duration("1h")', 'duration("-3d")', 'datetime("2024-01-01")', e()]))
        if k == 30: return '%s.%s()' % (self.pick(['datetime("2024-01-01T10:00:00Z")', 'datetime("1969-12-31T23:00:00Z")', 'context.when', e()]), self.pick(['toDate', 'toTime']))
        if k == 31: return '%s.%s()' % (self.pick(['duration("1d2h3m4s5ms")', 'duration("-90m")', 'context.d', e()]), self.pick(['toMilliseconds', 'toSeconds', 'toMinutes', 'toHours', 'toDays']))
        if k == 32: return '(%s %s %s)' % (self.pick(['datetime("2024-01-01")', 'duration("1h")', 'context.when', e()]), self.pick(['<', '<=', '>', '>=']), self.pick(['datetime("2024-01-02")', 'duration("2h")', 'context.d', e()]))
        if k == 33: return '(principal in %s)' % self.lit_uid(self.uid())
        if k == 34: return '(resource.owner == principal)'
        if k == 35: return '(%s.%s == %s)' % (self.var(), self.pick(ATTRS), e())
        if k == 36: return '(%s.rec has %s)' % (self.pick(['principal', 'resource', 'context']), self.pick(ATTRS))
        if k == 37: return '(action in %s)' % self.lit_uid(self.action_uid())
        if k == 38: return '!!%s' % e()
        return '(%s && %s || %s)' % (e(), e(), e())

    def scope(self, var):
        r = self.r.randrange(6)
        if var == 'action':
            if r == 0:
                return 'action == %s' % self.lit_uid(self.action_uid())
            if r == 1:
                return 'action in %s' % self.lit_uid(self.action_uid())
            if r == 2:
                return 'action in [%s]' % ', '.join(self.lit_uid(self.action_uid()) for _ in range(self.r.randrange(3)))
            return 'action'
        if r == 0:
            return '%s == %s' % (var, self.lit_uid(self.uid()))
        if r == 1:
            return '%s in %s' % (var, self.lit_uid(self.uid()))
        if r == 2:
            return '%s is %s' % (var, self.pick(TYPES))
        if r == 3:
            return '%s is %s in %s' % (var, self.pick(TYPES), self.lit_uid(self.uid()))
        return var

    def policy(self):
        out = []
        if self.r.random() < 0.2:
            out.append('@id("p")\n')
        out.append('%s (%s, %s, %s)' % (self.pick(['permit', 'permit', 'forbid']), self.scope('principal'),
                                        self.scope('action'), self.scope('resource')))
        for _ in range(self.r.choice([0, 1, 1, 1, 2, 3])):
            body = self.texpr('bool', self.r.randrange(1, 4)) if self.typed else self.expr(self.r.randrange(1, 4))
            out.append(' %s { %s }' % (self.pick(['when', 'when', 'unless']), body))
        out.append(';\n')
        return ''.join(out)

    def case(self):
        self.typed = self.r.random() < 0.5
        ents = self.entities()
        nonact = [e['uid'] for e in ents if e['uid']['type'] != 'Action']
        pols = ''.join(self.policy() for _ in range(self.r.randrange(1, 6)))
        ctx = {a: self.jvalue() for a in self.r.sample(ATTRS, self.r.randrange(0, 5))}
        if self.typed:
            ctx.update({a: self.tvalue(ty) for a, ty in TYPED_ATTRS.items() if self.r.random() < 0.9})
        if self.r.random() < 0.5:
            ctx['ip'] = {'__extn': {'fn': 'ip', 'arg': self.pick(['10.1.2.3', '::1', '127.0.0.1'])}}
        if self.r.random() < 0.5:
            ctx['when'] = {'__extn': {'fn': 'datetime', 'arg': '2024-05-05T05:05:05Z'}}
        if self.r.random() < 0.3:
            ctx['score'] = {'__extn': {'fn': 'decimal', 'arg': '1.5'}}
        return {
            'policies': pols, 'entities': ents,
            'principal': self.pick(nonact) if nonact and self.r.random() < 0.8 else self.uid(),
            'action': self.action_uid(),
            'resource': self.pick(nonact) if nonact and self.r.random() < 0.8 else self.uid(),
            'context': ctx,
        }


def run(cmd, cases, env=None):
    p = subprocess.run(cmd, input=json.dumps(cases).encode(), stdout=subprocess.PIPE,
                       env=env, check=False)
    if p.returncode != 0:
        sys.exit('difftest: %s failed (%d)' % (cmd[0], p.returncode))
    return [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]


def norm(r):
    if 'failure' in r:
        return ('failure',)
    return (r['decision'], tuple(sorted(r['reasons'])), tuple(sorted(r['errors'])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cli', required=True)
    ap.add_argument('--modules', required=True)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--cases', type=int, default=1000)
    ap.add_argument('--out', default='build/policy/diff')
    ap.add_argument('--replay')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    env = dict(os.environ, CEDAR_WASM_MODULES=os.path.abspath(a.modules))
    if a.replay:
        cases = [json.load(open(a.replay))['case']]
    else:
        g = Gen(random.Random(a.seed))
        cases = [g.case() for _ in range(a.cases)]
    mism = 0
    parsed = 0
    allow = 0
    errs = 0
    batch = 500
    for i in range(0, len(cases), batch):
        chunk = cases[i:i + batch]
        ours = run([a.cli, 'batch'], chunk)
        ref = run(['node', REF], chunk, env)
        if len(ours) != len(chunk) or len(ref) != len(chunk):
            sys.exit('difftest: result count mismatch')
        for j, (o, r) in enumerate(zip(ours, ref)):
            if 'failure' not in r:
                parsed += 1
                allow += r['decision'] == 'allow'
                errs += bool(r['errors'])
            if norm(o) != norm(r):
                path = os.path.join(a.out, 'mismatch-%d.json' % mism)
                with open(path, 'w') as f:
                    json.dump({'case': chunk[j], 'ours': o, 'reference': r}, f, indent=1,
                              ensure_ascii=False)
                if mism < 10:
                    print('MISMATCH case %d: ours %s reference %s (%s)' % (i + j, o, r, path))
                mism += 1
    print('difftest: %d cases (seed %s), %d parsed by cedar, %d allow, %d with errors: %d mismatches'
          % (len(cases), a.seed, parsed, allow, errs, mism))
    sys.exit(1 if mism else 0)


if __name__ == '__main__':
    main()
