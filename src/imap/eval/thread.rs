//! THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 §2.1, §2.2), and
//! Dovecot's THREAD=REFS.
//!
//! Reply chains can be thousands deep, so every tree walk here uses an
//! explicit stack; nothing recurses on input-shaped data.

use std::collections::{HashMap, HashSet};

use super::sort::sent_date;
use super::{Content, MsgCtx};
use crate::imap::codec::response::ThreadNode;
use crate::imap::codec::types::ThreadAlgorithm;
use crate::message::header::decode_value;

/// What threading needs from one message, computed once.
struct ThreadMsg {
    id: u32,
    seq: u32,
    date: i64,
    /// Base subject, ASCII case-folded for comparison.
    subject: String,
    reply_or_forward: bool,
}

fn thread_msg(m: &MsgCtx<'_, '_>, uid: bool) -> ThreadMsg {
    let subject_raw = m.content.and_then(|c| c.header("subject"));
    ThreadMsg {
        id: if uid { m.info.uid } else { m.seq },
        seq: m.seq,
        date: sent_date(m),
        subject: m
            .content
            .map(|c| c.base_subject().to_ascii_lowercase())
            .unwrap_or_default(),
        reply_or_forward: subject_raw.is_some_and(is_reply_or_forward),
    }
}

/// RFC 5256 §2.1: a subject is a reply or forward when extracting the base
/// subject removes a `re:`/`fw:`/`fwd:` leader, a `(fwd)` trailer or a
/// `[fwd: ...]` wrapper (list-name blobs alone do not count).
fn is_reply_or_forward(raw: &[u8]) -> bool {
    let decoded = decode_value(raw);
    let lower = decoded.trim().to_ascii_lowercase();
    if lower.ends_with("(fwd)") || lower.starts_with("[fwd:") {
        return true;
    }
    // Skip leading "[blob]" groups, then look for re / fw / fwd + ':'
    // (optionally with a blob before the colon, as in "Re[2]:").
    let mut rest = lower.as_str();
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('[')
            && let Some(close) = after.find(']')
        {
            rest = &after[close + 1..];
            continue;
        }
        break;
    }
    let after = if let Some(r) = rest.strip_prefix("re") {
        r
    } else if let Some(r) = rest.strip_prefix("fwd") {
        r
    } else if let Some(r) = rest.strip_prefix("fw") {
        r
    } else {
        return false;
    };
    let mut after = after.trim_start();
    if let Some(inner) = after.strip_prefix('[')
        && let Some(close) = inner.find(']')
    {
        after = &inner[close + 1..];
    }
    after.starts_with(':')
}

/// Sort key of a message or (via its first child) a dummy.
fn by_date(m: &ThreadMsg) -> (i64, u32) {
    (m.date, m.seq)
}

/// THREAD=ORDEREDSUBJECT: messages grouped by base subject; in each group
/// the earliest (by sent date, then sequence) is the parent of all the
/// others; groups ordered by their first message's date.
pub fn thread_ordered_subject(msgs: &[MsgCtx<'_, '_>], uid: bool) -> Vec<ThreadNode> {
    let mut items: Vec<ThreadMsg> = msgs.iter().map(|m| thread_msg(m, uid)).collect();
    items.sort_by(|a, b| {
        a.subject
            .cmp(&b.subject)
            .then_with(|| by_date(a).cmp(&by_date(b)))
    });
    let mut groups: Vec<Vec<ThreadMsg>> = Vec::new();
    for item in items {
        match groups.last_mut() {
            Some(group) if group[0].subject == item.subject => group.push(item),
            _ => groups.push(vec![item]),
        }
    }
    groups.sort_by_key(|g| by_date(&g[0]));
    groups
        .into_iter()
        .map(|group| {
            let mut it = group.into_iter();
            let first = it.next().map(|m| m.id);
            ThreadNode {
                id: first,
                children: it
                    .map(|m| ThreadNode {
                        id: Some(m.id),
                        children: Vec::new(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Threading reads the Subject, Date, Message-ID, References and
/// In-Reply-To headers: a header-only parse is enough.
pub const CONTENT_NEEDED: Content = Content::HeaderOnly;

/// Threads `msgs` with `algorithm`; `None` for an algorithm we do not
/// implement (the session answers BAD / NO). Threading reads headers only.
pub fn thread(
    msgs: &[MsgCtx<'_, '_>],
    algorithm: &ThreadAlgorithm,
    uid: bool,
) -> Option<Vec<ThreadNode>> {
    match algorithm {
        ThreadAlgorithm::OrderedSubject => Some(thread_ordered_subject(msgs, uid)),
        ThreadAlgorithm::References => Some(thread_references(msgs, uid)),
        ThreadAlgorithm::Refs => Some(thread_refs(msgs, uid)),
        ThreadAlgorithm::Other(_) => None,
    }
}

/// A node of the REFERENCES algorithm: a message or a dummy (`msg: None`).
#[derive(Default)]
struct Container {
    msg: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Forest {
    nodes: Vec<Container>,
    msgs: Vec<ThreadMsg>,
}

impl Forest {
    fn new_node(&mut self) -> usize {
        self.nodes.push(Container::default());
        self.nodes.len() - 1
    }

    /// True when `node` is `ancestor` or lies below it.
    fn is_descendant(&self, node: usize, ancestor: usize) -> bool {
        let mut cur = Some(node);
        // Parent chains are acyclic by construction; the bound is a guard.
        let mut steps = 0;
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            steps += 1;
            if steps > self.nodes.len() {
                return true;
            }
            cur = self.nodes[c].parent;
        }
        false
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    fn unlink(&mut self, child: usize) {
        if let Some(p) = self.nodes[child].parent.take() {
            self.nodes[p].children.retain(|&c| c != child);
        }
    }

    /// Link unless the child already has a parent or a loop would form.
    fn link_if_free(&mut self, parent: usize, child: usize) {
        if self.nodes[child].parent.is_none() && !self.is_descendant(parent, child) {
            self.link(parent, child);
        }
    }

    /// (date, seq) of a node; a dummy takes its first child's.
    fn key(&self, node: usize) -> (i64, u32) {
        let mut cur = node;
        // A dummy's first child is a message after pruning; the loop also
        // copes with nested dummies.
        for _ in 0..=self.nodes.len() {
            match (self.nodes[cur].msg, self.nodes[cur].children.first()) {
                (Some(m), _) => return by_date(&self.msgs[m]),
                (None, Some(&first)) => cur = first,
                (None, None) => break,
            }
        }
        (i64::MAX, u32::MAX)
    }

    fn subject_msg(&self, node: usize) -> Option<&ThreadMsg> {
        let n = &self.nodes[node];
        let m = n
            .msg
            .or_else(|| n.children.first().and_then(|&c| self.nodes[c].msg))?;
        self.msgs.get(m)
    }

    /// A root's base subject (`None` when it has none) and whether the root
    /// itself is a reply or forward (a dummy never is).
    fn root_subject(&self, node: usize) -> Option<(String, bool)> {
        let m = self.subject_msg(node)?;
        if m.subject.is_empty() {
            return None;
        }
        Some((m.subject.clone(), self.is_reply(node)))
    }

    /// True when `node` holds a message that is a reply or forward.
    fn is_reply(&self, node: usize) -> bool {
        self.nodes[node]
            .msg
            .is_some_and(|m| self.msgs[m].reply_or_forward)
    }

    fn sort_children(&mut self, node: usize) {
        let mut children = std::mem::take(&mut self.nodes[node].children);
        children.sort_by_key(|&c| self.key(c));
        self.nodes[node].children = children;
    }

    /// Every node below `roots`, children before parents.
    fn post_order(&self, roots: &[usize]) -> Vec<usize> {
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut stack: Vec<(usize, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
        while let Some((node, expanded)) = stack.pop() {
            if expanded {
                order.push(node);
                continue;
            }
            stack.push((node, true));
            stack.extend(self.nodes[node].children.iter().rev().map(|&c| (c, false)));
        }
        order
    }

    fn is_dummy(&self, node: usize) -> bool {
        self.nodes[node].msg.is_none()
    }
}

/// THREAD=REFERENCES (RFC 5256 §2.2 steps 1–6).
pub fn thread_references(msgs: &[MsgCtx<'_, '_>], uid: bool) -> Vec<ThreadNode> {
    let (mut forest, roots, _) = linked_and_pruned(msgs, uid);
    let roots = gathered_by_subject(&mut forest, roots);
    build_nodes(&mut forest, &roots)
}

/// THREAD=REFS, Dovecot's variant of REFERENCES: the same threads by
/// Message-ID, References and In-Reply-To (steps 1–3), never merged by
/// subject; siblings by date, and threads ordered by their newest message
/// (the thread with the latest reply last), a thread under a missing
/// parent (a dummy root, even one shown as its only child) before one
/// under a message when the dates tie.
pub fn thread_refs(msgs: &[MsgCtx<'_, '_>], uid: bool) -> Vec<ThreadNode> {
    let (mut forest, mut roots, promoted) = linked_and_pruned(msgs, uid);
    for node in forest.post_order(&roots) {
        forest.sort_children(node);
    }
    let newest = |forest: &Forest, root: usize| {
        let date = forest
            .post_order(&[root])
            .into_iter()
            .filter_map(|n| forest.nodes[n].msg)
            .map(|m| forest.msgs[m].date)
            .max()
            .unwrap_or(i64::MIN);
        let seq = match forest.nodes[root].msg {
            Some(m) if !promoted.contains(&root) => forest.msgs[m].seq,
            _ => 0,
        };
        (date, seq)
    };
    let mut keyed: Vec<((i64, u32), usize)> =
        roots.iter().map(|&r| (newest(&forest, r), r)).collect();
    keyed.sort_by_key(|(key, _)| *key);
    roots = keyed.into_iter().map(|(_, r)| r).collect();
    build_nodes(&mut forest, &roots)
}

/// REFERENCES steps 1–3: containers linked by Message-ID, References and
/// In-Reply-To, then dummies pruned. Returns the forest, its roots and
/// the roots that replaced a dummy with a single child.
fn linked_and_pruned(msgs: &[MsgCtx<'_, '_>], uid: bool) -> (Forest, Vec<usize>, HashSet<usize>) {
    let mut order: Vec<&MsgCtx<'_, '_>> = msgs.iter().collect();
    order.sort_by_key(|m| m.seq);
    let mut forest = Forest {
        nodes: Vec::with_capacity(order.len() * 2),
        msgs: order.iter().map(|m| thread_msg(m, uid)).collect(),
    };
    let mut by_id: HashMap<Vec<u8>, usize> = HashMap::new();

    // Step 1: link messages by Message-ID / References / In-Reply-To.
    for (index, m) in order.iter().enumerate() {
        let (own_id, mut refs) = match m.content {
            Some(c) => (
                c.message_ids("message-id").into_iter().next(),
                c.message_ids("references"),
            ),
            None => (None, Vec::new()),
        };
        if refs.is_empty()
            && let Some(c) = m.content
        {
            refs = c.message_ids("in-reply-to").into_iter().take(1).collect();
        }
        // A missing or duplicate Message-ID gets a fresh, unique node.
        let me = match own_id {
            Some(id) => match by_id.get(&id) {
                Some(&n) if forest.nodes[n].msg.is_none() => n,
                Some(_) => forest.new_node(),
                None => {
                    let n = forest.new_node();
                    by_id.insert(id, n);
                    n
                }
            },
            None => forest.new_node(),
        };
        forest.nodes[me].msg = Some(index);
        // (A) chain the references, creating dummies for unknown ids.
        let mut prev: Option<usize> = None;
        for r in refs {
            let node = match by_id.get(&r) {
                Some(&n) => n,
                None => {
                    let n = forest.new_node();
                    by_id.insert(r, n);
                    n
                }
            };
            if let Some(p) = prev
                && p != node
            {
                forest.link_if_free(p, node);
            }
            prev = Some(node);
        }
        // (B) the last reference is the parent, replacing any earlier link.
        forest.unlink(me);
        if let Some(p) = prev
            && !forest.is_descendant(p, me)
        {
            forest.link(p, me);
        }
    }

    // Step 2: the root set.
    let roots: Vec<usize> = (0..forest.nodes.len())
        .filter(|&n| forest.nodes[n].parent.is_none())
        .collect();

    // Step 3: prune dummies. Below the root, an empty dummy goes and a
    // dummy with children is replaced by them; at the root, a dummy is
    // only replaced when it has exactly one child.
    for node in forest.post_order(&roots) {
        let children = std::mem::take(&mut forest.nodes[node].children);
        let mut kept = Vec::with_capacity(children.len());
        for c in children {
            if forest.is_dummy(c) {
                kept.extend(std::mem::take(&mut forest.nodes[c].children));
            } else {
                kept.push(c);
            }
        }
        for &c in &kept {
            forest.nodes[c].parent = Some(node);
        }
        forest.nodes[node].children = kept;
    }
    let mut promoted = HashSet::new();
    let roots: Vec<usize> = roots
        .into_iter()
        .filter_map(|r| {
            if !forest.is_dummy(r) {
                return Some(r);
            }
            match forest.nodes[r].children.as_slice() {
                [] => None,
                [only] => {
                    let only = *only;
                    forest.nodes[only].parent = None;
                    promoted.insert(only);
                    Some(only)
                }
                _ => Some(r),
            }
        })
        .collect();
    (forest, roots, promoted)
}

/// REFERENCES steps 4–6: roots by date, threads with one base subject
/// gathered, every sibling set sorted by date.
fn gathered_by_subject(forest: &mut Forest, mut roots: Vec<usize>) -> Vec<usize> {
    // Step 4: order the root set by date (a dummy by its first child).
    for &r in &roots {
        if forest.is_dummy(r) {
            forest.sort_children(r);
        }
    }
    roots.sort_by_key(|&r| forest.key(r));

    // Step 5: gather threads that share a base subject.
    let mut table: HashMap<String, usize> = HashMap::new();
    for &r in &roots {
        let Some((subject, current_reply)) = forest.root_subject(r) else {
            continue;
        };
        match table.get(&subject) {
            None => {
                table.insert(subject, r);
            }
            Some(&t) => {
                let t_reply = forest.is_reply(t);
                if !forest.is_dummy(t) && (forest.is_dummy(r) || (t_reply && !current_reply)) {
                    table.insert(subject, r);
                }
            }
        }
    }
    let mut removed = vec![false; forest.nodes.len()];
    let mut replaced_by: HashMap<usize, usize> = HashMap::new();
    for &r in &roots.clone() {
        if removed[r] || forest.nodes[r].parent.is_some() {
            continue;
        }
        let Some((subject, current_reply)) = forest.root_subject(r) else {
            continue;
        };
        let Some(&t) = table.get(&subject) else {
            continue;
        };
        if t == r {
            continue;
        }
        let (r_dummy, t_dummy) = (forest.is_dummy(r), forest.is_dummy(t));
        let t_reply = forest.is_reply(t);
        if r_dummy && t_dummy {
            let moved = std::mem::take(&mut forest.nodes[r].children);
            for &c in &moved {
                forest.nodes[c].parent = Some(t);
            }
            forest.nodes[t].children.extend(moved);
            removed[r] = true;
        } else if t_dummy || (current_reply && !t_reply) {
            forest.link(t, r);
            removed[r] = true;
        } else {
            let dummy = forest.new_node();
            removed.push(false);
            forest.link(dummy, t);
            forest.link(dummy, r);
            removed[r] = true;
            replaced_by.insert(t, dummy);
            table.insert(subject, dummy);
        }
    }
    let mut roots: Vec<usize> = roots
        .into_iter()
        .filter(|&r| !removed[r])
        .map(|r| replaced_by.get(&r).copied().unwrap_or(r))
        .collect();

    // Step 6: sort every sibling set by date, children before parents.
    for node in forest.post_order(&roots) {
        forest.sort_children(node);
    }
    roots.sort_by_key(|&r| forest.key(r));
    roots
}

/// Converts containers to response nodes without recursion.
fn build_nodes(forest: &mut Forest, roots: &[usize]) -> Vec<ThreadNode> {
    let mut built: Vec<Option<ThreadNode>> = (0..forest.nodes.len()).map(|_| None).collect();
    for node in forest.post_order(roots) {
        let children = forest.nodes[node]
            .children
            .iter()
            .filter_map(|&c| built[c].take())
            .collect();
        built[node] = Some(ThreadNode {
            id: forest.nodes[node].msg.map(|m| forest.msgs[m].id),
            children,
        });
    }
    roots.iter().filter_map(|&r| built[r].take()).collect()
}

#[cfg(test)]
#[path = "thread_tests.rs"]
mod tests;
