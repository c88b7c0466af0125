//! A tiny reverse-mode autograd engine over f64 scalars, in the spirit of micrograd.
//!
//! Every operation records its inputs and its local derivative ∂out/∂input right where the forward value
//! is computed; `backward` visits the graph in reverse topological order so a value that feeds several
//! consumers (the hidden units of the 2-2-2 network) has received every contribution before it passes
//! its gradient on.

/// A handle to a scalar in a [`Graph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value(usize);

#[derive(Debug, Clone)]
struct Node {
    data: f64,
    grad: f64,
    /// Each input with ∂(this node)/∂(input).
    parents: Vec<(Value, f64)>,
}

/// The expression graph: owns every value built from leaves by the operations below.
#[derive(Debug, Default, Clone)]
pub struct Graph {
    nodes: Vec<Node>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, data: f64, parents: Vec<(Value, f64)>) -> Value {
        self.nodes.push(Node {
            data,
            grad: 0.0,
            parents,
        });
        Value(self.nodes.len() - 1)
    }

    /// A value with no inputs: a weight, an input or a constant.
    pub fn leaf(&mut self, data: f64) -> Value {
        self.push(data, Vec::new())
    }

    /// The forward value of `v`.
    pub fn data(&self, v: Value) -> f64 {
        self.nodes[v.0].data
    }

    /// ∂output/∂v after [`Graph::backward`].
    pub fn grad(&self, v: Value) -> f64 {
        self.nodes[v.0].grad
    }

    /// a + b; ∂/∂a = 1, ∂/∂b = 1.
    pub fn add(&mut self, a: Value, b: Value) -> Value {
        self.push(self.data(a) + self.data(b), vec![(a, 1.0), (b, 1.0)])
    }

    /// a − b; ∂/∂a = 1, ∂/∂b = −1.
    pub fn sub(&mut self, a: Value, b: Value) -> Value {
        self.push(self.data(a) - self.data(b), vec![(a, 1.0), (b, -1.0)])
    }

    /// a · b; ∂/∂a = b, ∂/∂b = a.
    pub fn mul(&mut self, a: Value, b: Value) -> Value {
        let (x, y) = (self.data(a), self.data(b));
        self.push(x * y, vec![(a, y), (b, x)])
    }

    /// c · a for a constant c; ∂/∂a = c.
    pub fn scale(&mut self, a: Value, c: f64) -> Value {
        self.push(c * self.data(a), vec![(a, c)])
    }

    /// a²; ∂/∂a = 2a.
    pub fn square(&mut self, a: Value) -> Value {
        let x = self.data(a);
        self.push(x * x, vec![(a, 2.0 * x)])
    }

    /// σ(a); ∂/∂a = σ(a)(1 − σ(a)).
    pub fn sigmoid(&mut self, a: Value) -> Value {
        let s = crate::network::sigmoid(self.data(a));
        self.push(s, vec![(a, s * (1.0 - s))])
    }

    /// tanh(a); ∂/∂a = 1 − tanh²(a).
    pub fn tanh(&mut self, a: Value) -> Value {
        let t = self.data(a).tanh();
        self.push(t, vec![(a, 1.0 - t * t)])
    }

    /// max(a, 0); ∂/∂a = 1 where a > 0, else 0.
    pub fn relu(&mut self, a: Value) -> Value {
        let x = self.data(a);
        self.push(x.max(0.0), vec![(a, if x > 0.0 { 1.0 } else { 0.0 })])
    }

    /// The sum of several values (a chain of additions).
    pub fn sum(&mut self, values: &[Value]) -> Value {
        let mut iter = values.iter().copied();
        let first = iter.next().expect("sum of no values");
        iter.fold(first, |acc, v| self.add(acc, v))
    }

    /// The values `output` depends on, each after all of its inputs.
    fn topological_order(&self, output: Value) -> Vec<Value> {
        let mut order = Vec::new();
        let mut visited = vec![false; self.nodes.len()];
        // Iterative depth-first post-order: a node is emitted once all its parents are.
        let mut stack = vec![(output, false)];
        while let Some((v, parents_done)) = stack.pop() {
            if parents_done {
                order.push(v);
                continue;
            }
            if visited[v.0] {
                continue;
            }
            visited[v.0] = true;
            stack.push((v, true));
            for &(p, _) in &self.nodes[v.0].parents {
                if !visited[p.0] {
                    stack.push((p, false));
                }
            }
        }
        order
    }

    /// Fills every `grad` with ∂output/∂value by the chain rule, visiting values in reverse topological order.
    pub fn backward(&mut self, output: Value) {
        for node in &mut self.nodes {
            node.grad = 0.0;
        }
        self.nodes[output.0].grad = 1.0;
        for v in self.topological_order(output).into_iter().rev() {
            let grad = self.nodes[v.0].grad;
            for i in 0..self.nodes[v.0].parents.len() {
                let (p, local) = self.nodes[v.0].parents[i];
                self.nodes[p.0].grad += local * grad;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_used_twice_receives_both_contributions() {
        // y = x·x + x → dy/dx = 2x + 1.
        let mut g = Graph::new();
        let x = g.leaf(3.0);
        let xx = g.mul(x, x);
        let y = g.add(xx, x);
        g.backward(y);
        assert_eq!(g.data(y), 12.0);
        assert_eq!(g.grad(x), 7.0);
    }

    #[test]
    fn every_operation_matches_central_differences() {
        type Op = fn(&mut Graph, Value, Value) -> Value;
        let ops: [(&str, Op); 8] = [
            ("add", |g, a, b| g.add(a, b)),
            ("sub", |g, a, b| g.sub(a, b)),
            ("mul", |g, a, b| g.mul(a, b)),
            ("scale", |g, a, _| g.scale(a, -2.5)),
            ("square", |g, a, _| g.square(a)),
            ("sigmoid", |g, a, _| g.sigmoid(a)),
            ("tanh", |g, a, _| g.tanh(a)),
            ("relu", |g, a, _| g.relu(a)),
        ];
        for (name, op) in ops {
            for (x, y) in [(0.7, -1.3), (-0.4, 2.0)] {
                let eval = |x: f64, y: f64| {
                    let mut g = Graph::new();
                    let (a, b) = (g.leaf(x), g.leaf(y));
                    let out = op(&mut g, a, b);
                    g.backward(out);
                    (g.data(out), g.grad(a), g.grad(b))
                };
                let (_, da, db) = eval(x, y);
                let eps = 1e-6;
                let fa = (eval(x + eps, y).0 - eval(x - eps, y).0) / (2.0 * eps);
                let fb = (eval(x, y + eps).0 - eval(x, y - eps).0) / (2.0 * eps);
                assert!((fa - da).abs() < 1e-8, "{name} ∂a: {fa} vs {da}");
                assert!((fb - db).abs() < 1e-8, "{name} ∂b: {fb} vs {db}");
            }
        }
    }
}
