//! Which product a sample is for (design.md, "Decision", step 7): a drug
//! whose products are not interchangeable (Cometriq capsules and Cabometyx
//! tablets) is judged on the product's own dose levels and targets, chosen
//! by the brand given as `drug`, the `product` field, the indication, or
//! the pack's default, and said; otherwise the sample is refused.

use super::EvalError;
use crate::input::sample::Sample;
use crate::pack::model::Drug;
use crate::result::ErrorCode;

/// The rule that applies: the drug's, or one of its products'.
pub(crate) fn select<'a>(
    base: &'a Drug,
    sample: &Sample,
    warnings: &mut Vec<String>,
) -> Result<&'a Drug, EvalError> {
    let named = |name: &str| {
        products(base)
            .find(|(_, p)| p.is_named(name))
            .map(|(d, _)| d)
    };
    if base.products.is_empty() {
        if let Some(p) = &sample.product {
            let own = p.eq_ignore_ascii_case(&base.name)
                || base.aliases.iter().any(|a| a.eq_ignore_ascii_case(p));
            if !own {
                warnings.push(format!(
                    "field `product`: the pack does not tell products of {} apart; `{p}` is judged on the drug's rule",
                    base.name
                ));
            }
        }
        return Ok(base);
    }
    let by_drug = named(&sample.drug);
    let by_field = match &sample.product {
        Some(p) => Some(named(p).ok_or_else(|| unknown(base, p))?),
        None => None,
    };
    let chosen = match (by_drug, by_field) {
        (Some(a), Some(b)) if !std::ptr::eq(a, b) => {
            return Err(EvalError::new(
                ErrorCode::Product,
                format!(
                    "field `product`: `{}` contradicts the drug given, `{}`; give one product",
                    sample.product.as_deref().unwrap_or_default(),
                    sample.drug
                ),
            ));
        }
        (a, b) => a.or(b),
    };
    let chosen = match chosen {
        Some(d) => d,
        None => implied(base, sample, warnings)?,
    };
    if let (true, Some(product)) = (chosen.targets.is_empty(), &chosen.product) {
        return Err(EvalError::no_target(format!(
            "{} ({}) has no target in pack: {}",
            product.name,
            base.name,
            product.no_target.as_deref().unwrap_or("none is given")
        )));
    }
    Ok(chosen)
}

/// A product the sample did not name: the one licensed for its indication,
/// or the pack's default; said in a warning.
fn implied<'a>(
    base: &'a Drug,
    sample: &Sample,
    warnings: &mut Vec<String>,
) -> Result<&'a Drug, EvalError> {
    if let Some(indication) = &sample.indication {
        let mut licensed = products(base).filter(|(_, p)| {
            p.indications
                .iter()
                .any(|i| i.eq_ignore_ascii_case(indication))
        });
        if let (Some((only, p)), None) = (licensed.next(), licensed.next()) {
            warnings.push(format!(
                "product not given: {} is the product of {} for {indication}",
                p.name, base.name
            ));
            return Ok(only);
        }
    }
    match products(base).find(|(_, p)| p.default) {
        Some((d, p)) => {
            warnings.push(format!(
                "product not given: {} is assumed; {} has other products with their own doses and targets ({})",
                p.name,
                base.name,
                names(base)
            ));
            Ok(d)
        }
        None => Err(EvalError::new(
            ErrorCode::Product,
            format!(
                "field `product`: {} has products that are not interchangeable ({}); give `product`, or the brand as `drug`",
                base.name,
                names(base)
            ),
        )),
    }
}

/// The drug's products with their rules.
fn products(base: &Drug) -> impl Iterator<Item = (&Drug, &crate::pack::model::Product)> {
    base.products
        .iter()
        .filter_map(|d| d.product.as_ref().map(|p| (d, p)))
}

fn unknown(base: &Drug, given: &str) -> EvalError {
    EvalError::new(
        ErrorCode::Product,
        format!(
            "field `product`: `{given}` is not a product of {} in the pack; known: {}",
            base.name,
            names(base)
        ),
    )
}

/// `Cometriq (capsules), Cabometyx (tablets)`.
fn names(base: &Drug) -> String {
    products(base)
        .map(|(_, p)| match &p.form {
            Some(form) => format!("{} ({form})", p.name),
            None => p.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
